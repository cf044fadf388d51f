"""Hugging Face sequence classifiers, unwrapped: a tiny BERT and a tiny DistilBERT built
from configs, with a WordPiece tokenizer trained here on the shipped snippets."""

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import deepaudit as da
from deepaudit.errors import ValidationError
from tests.audit import hf_toys

FAMILIES = ["overview", "explain", "fairness", "robustness"]
OPTIONS = {
    "explain": {"methods": ["integrated_gradients", "occlusion"], "n_samples": 6},
    "robustness": {"n_samples": 24, "steps": 5, "restarts": 1},
    "fairness": {"n_bootstrap": 50, "identity_attributes": ["gender"]},
}


def _ids(texts, width=40):
    """Ids from the tokenizer as a user holds them (its own padding id)."""
    return np.asarray(
        hf_toys.tokenizer()(texts, padding="max_length", truncation=True, max_length=width)[
            "input_ids"
        ]
    )


@pytest.fixture(scope="module", params=["bert", "distilbert"])
def audited(request):
    texts, labels = hf_toys.texts(40)
    model = hf_toys.bert(request.param)
    target = da.Target(  # as it is: no wrapper, ids straight from the tokenizer
        model,
        modality="text",
        data=_ids(texts),
        labels=labels,
        vocab=hf_toys.tokenizer().convert_ids_to_tokens(list(range(len(hf_toys.tokenizer())))),
        tokenizer=hf_toys.tokenizer(),
        sensitive={"g": np.where(np.arange(len(texts)) % 2 == 0, "a", "b")},
        device="cpu",
    )
    bundle = da.run_audit(
        target, da.AuditConfig(families=FAMILIES, options=OPTIONS, progress=False)
    )
    return target, bundle


def test_every_family_runs_on_the_raw_model(audited):
    _, bundle = audited
    assert list(bundle.families) == FAMILIES
    assert bundle.incomplete is None
    assert bundle["robustness"].rows("clean_accuracy")


def test_attributions_on_padding_are_exactly_zero(audited):
    _, bundle = audited
    explain = bundle["explain"]
    tokens = explain.arrays["tokens"]
    padding = tokens == ""
    assert padding.any() and (~padding).any()
    for method in ("integrated_gradients", "occlusion"):
        values = explain.arrays[f"attributions_{method}"]
        assert np.all(values[padding] == 0.0), method
        assert np.abs(values[~padding]).sum() > 0, method


def test_padding_is_masked_on_every_call(audited):
    target, _ = audited
    texts, _ = hf_toys.texts(4, seed=3)
    short = torch.as_tensor(target.encode_texts(texts, 40))
    longer = torch.as_tensor(target.encode_texts(texts, 60))
    with torch.no_grad():
        np.testing.assert_allclose(
            target.model(short).numpy(), target.model(longer).numpy(), atol=1e-5
        )


def test_tokens_are_the_tokenizers_own_pieces(audited):
    target, _ = audited
    text = hf_toys.texts(40)[0][0]
    pieces = hf_toys.tokenizer().tokenize(text)
    assert (
        target.tokens(0)[: len(pieces) + 2] == ["[CLS]", *pieces[:38], "[SEP]"][: len(pieces) + 2]
    )


def test_an_identity_swap_changes_exactly_the_terms_pieces(audited):
    target, _ = audited
    tok = hf_toys.tokenizer()
    a, b = "grandmother", "he"
    assert len(tok.tokenize(a)) > 1  # several pieces: the swap is not one id for another
    template = "my {term} thinks this film is wonderful"
    ids_a, ids_b = target.encode_texts([template.format(term=a), template.format(term=b)], 24)
    pieces_a, pieces_b = tok.tokenize(a), tok.tokenize(b)
    prefix = 1 + len(tok.tokenize("my"))  # [CLS] my
    vocab = target.vocab
    assert [vocab[i] for i in ids_a[prefix : prefix + len(pieces_a)]] == pieces_a
    assert [vocab[i] for i in ids_b[prefix : prefix + len(pieces_b)]] == pieces_b
    rest_a = ids_a[prefix + len(pieces_a) :]
    rest_b = ids_b[prefix + len(pieces_b) :]
    n = int((rest_a != 0).sum())
    np.testing.assert_array_equal(rest_a[:n], rest_b[:n])  # the rest of the sentence, unchanged
    np.testing.assert_array_equal(ids_a[:prefix], ids_b[:prefix])


def test_from_huggingface_tokenises_raw_strings():
    texts, labels = hf_toys.texts(12)
    target = da.Target.from_huggingface(
        hf_toys.bert("distilbert"), hf_toys.tokenizer(), texts, labels=labels, device="cpu"
    )
    longest = max(len(hf_toys.tokenizer()(t)["input_ids"]) for t in texts)
    assert target.data.shape == (12, longest)
    assert target.tokens(0) == ["[CLS]", *hf_toys.tokenizer().tokenize(texts[0]), "[SEP]"]
    assert target.metadata["embedding_layer"] == "model.distilbert.embeddings.word_embeddings"


def test_from_huggingface_truncates_to_the_models_positions():
    long_text = " ".join(["a wonderful and moving film"] * 40)
    target = da.Target.from_huggingface(hf_toys.bert(), hf_toys.tokenizer(), [long_text, "ok"])
    assert target.data.shape[1] == 64  # max_position_embeddings of the tiny BERT
    assert target.tokens(0)[-1] == "[SEP]"


def test_a_head_of_another_width_than_class_names_is_refused():
    texts, _ = hf_toys.texts(4)
    with pytest.raises(ValidationError, match=r"'class_names'.*\(2: config.num_labels\)"):
        da.Target.from_huggingface(
            hf_toys.bert(), hf_toys.tokenizer(), texts, class_names=["a", "b", "c"]
        )
    with pytest.raises(ValidationError, match=r"'model'.*kind='classifier', modality='text'"):
        da.Target(hf_toys.bert(), modality="tabular", data=np.zeros((2, 3), np.float32))


def test_word_substitution_changes_whole_words_only(audited):
    from deepaudit.audit.robustness.space import embedding_layer
    from deepaudit.audit.robustness.words import substitution_attack

    target, _ = audited
    vocab = target.vocab
    ids = target.data[:16]
    labels = torch.as_tensor(target.predict(ids))  # flip the model's own decisions
    layer = embedding_layer(target.model, target.metadata["embedding_layer"])
    result = substitution_attack(
        target, layer, ids, labels,
        max_changed=3, n_neighbours=8, n_candidates=16, min_similarity=-1.0,
    )  # fmt: skip
    moved = (result.ids != ids).nonzero().tolist()
    assert moved  # some words were swapped
    for i, j in moved:
        for row in (ids[i], result.ids[i]):  # a whole word before, a whole word after
            assert not vocab[int(row[j])].startswith("##")
            assert j + 1 == len(row) or not vocab[int(row[j + 1])].startswith("##")
