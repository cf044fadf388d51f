import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import NotApplicableError, ValidationError


@pytest.mark.parametrize(
    "fixture", ["tabular_target", "image_target", "text_target", "autoencoder_target"]
)
def test_batched_equals_unbatched(fixture, request):
    target = request.getfixturevalue(fixture)
    target.batch_size = 10_000
    whole = target.score()
    target.batch_size = 7
    batched = target.score()
    np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fixture", ["tabular_target", "image_target", "text_target"])
def test_classifier_outputs_are_consistent(fixture, request):
    target = request.getfixturevalue(fixture)
    logits = target.predict_logits()
    proba = target.predict_proba()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(target.predict(), logits.argmax(axis=1))
    with torch.no_grad():
        direct = target.model(target.data).numpy()
    np.testing.assert_allclose(logits, direct, rtol=1e-5, atol=1e-6)
    assert target.n_evaluations >= 2 * target.n_samples


def test_a_single_logit_is_a_binary_classifier(rng):
    X = rng.normal(size=(40, 3)).astype(np.float32)
    model = nn.Linear(3, 1)
    target = da.Target(model, modality="tabular", data=X, device="cpu")
    with torch.no_grad():
        p1 = torch.sigmoid(model(torch.from_numpy(X)))[:, 0].double().numpy()
    proba = target.predict_proba()
    np.testing.assert_allclose(proba[:, 1], p1, rtol=1e-6)
    np.testing.assert_allclose(target.score(), p1, rtol=1e-6)


def test_frames_and_datasets_are_accepted(rng):
    frame = pd.DataFrame(rng.normal(size=(12, 2)), columns=["a", "b"])
    target = da.Target(nn.Linear(2, 2), modality="tabular", data=frame, device="cpu")
    assert target.feature_names == ["a", "b"]
    assert target.data.dtype == torch.float32

    xs = torch.rand(9, 1, 4, 4)
    ys = torch.arange(9) % 2
    dataset = torch.utils.data.TensorDataset(xs, ys)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    target = da.Target(model, modality="image", data=dataset, device="cpu")
    assert torch.equal(target.data, xs)
    np.testing.assert_array_equal(target.labels, ys.numpy())


def test_sensitive_attributes_as_frame_or_dict(tabular_target):
    frame = tabular_target.sensitive
    assert list(frame.columns) == ["sex", "age"]
    again = da.Target(
        tabular_target.model,
        modality="tabular",
        data=tabular_target.data,
        sensitive=frame,
        device="cpu",
    )
    pd.testing.assert_frame_equal(again.sensitive, frame)


def test_categorical_features_group_their_columns(rng):
    X = np.c_[rng.normal(size=(10, 1)), np.eye(3)[rng.integers(0, 3, 10)]].astype(np.float32)
    target = da.Target(
        nn.Linear(4, 2),
        modality="tabular",
        data=X,
        feature_names=["age", "job=a", "job=b", "job=c"],
        categorical_features={"job": ["job=a", "job=b", "job=c"]},
        feature_ranges={"age": (-5, 5)},
        device="cpu",
    )
    assert target.feature_groups == {"age": [0], "job": [1, 2, 3]}
    assert target.categorical == ["job"]
    assert target.feature_ranges["age"] == (-5.0, 5.0)
    assert target.feature_ranges["job=a"] == (0.0, 1.0)  # observed


def test_bad_input_is_refused_with_the_argument_named(rng):
    X = rng.normal(size=(10, 3)).astype(np.float32)
    model = nn.Linear(3, 2)
    cases = [
        (
            dict(labels=np.zeros(9)),
            "The 'labels' parameter of Target must have one row per "
            "sample (10 rows). Got 9 rows instead.",
        ),
        (
            dict(sensitive={"sex": ["f"] * 11}),
            "The \"sensitive['sex']\" parameter of Target must "
            "have one row per sample (10 rows). Got 11 rows instead.",
        ),
        (
            dict(sensitive={"sex": [None] + ["f"] * 9}),
            "The \"sensitive['sex']\" parameter of "
            "Target must be a group for every sample. Got 1 missing value instead.",
        ),
        (
            dict(kind="regressor"),
            "The 'kind' parameter of Target must be one of 'classifier', "
            "'autoencoder', 'generator'. Got 'regressor' instead.",
        ),
        (
            dict(feature_names=["a", "b"]),
            "The 'feature_names' parameter of Target must be 3 "
            "distinct names, one per column. Got ['a', 'b'] instead.",
        ),
        (
            dict(labels=np.full(10, 0.5)),
            "The 'labels' parameter of Target must be integer class "
            "indices. Got ndarray of shape (10,) instead.",
        ),
        (
            dict(class_names=["a", "b"], labels=np.full(10, 2)),
            "The 'labels' parameter of Target "
            "must be integer class indices in [0, 1] (one per class name). Got labels ranging over "
            "[2, 2] instead.",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError) as info:
            da.Target(model, modality="tabular", data=X, device="cpu", **kwargs)
        assert str(info.value) == message

    with pytest.raises(ValidationError, match="'data' parameter of Target must be finite values"):
        da.Target(model, modality="tabular", data=np.full((4, 3), np.nan), device="cpu")
    with pytest.raises(ValidationError, match="non-numeric columns"):
        da.Target(model, modality="tabular", data=pd.DataFrame({"a": ["x", "y"]}), device="cpu")
    with pytest.raises(ValidationError, match="'vocab' parameter of Target must be a list"):
        da.Target(model, modality="text", data=np.ones((2, 3), dtype=int), device="cpu")
    with pytest.raises(ValidationError, match="token ids below the vocabulary size 2"):
        da.Target(
            model, modality="text", data=np.full((2, 3), 5), vocab=["<pad>", "a"], device="cpu"
        )
    with pytest.raises(ValidationError, match="'latent_dim' parameter of Target"):
        da.Target(model, kind="generator", modality="image", device="cpu")
    with pytest.raises(ValidationError, match="N×C×H×W images for image data"):
        da.Target(model, modality="image", data=X, device="cpu")
    with pytest.raises(ValidationError, match="'feature_names' parameter of Target must be None"):
        da.Target(
            model, modality="image", data=np.ones((2, 1, 2, 2)), feature_names=["a"], device="cpu"
        )


def test_lstm_gradients_flow_in_eval_mode(text_target):
    captured = {}

    def keep(module, inputs, output):
        output.retain_grad()
        captured["embedding"] = output

    handle = text_target.model.embedding.register_forward_hook(keep)
    try:
        out = text_target.forward(text_target.data[:4])
        out[:, 1].sum().backward()
    finally:
        handle.remove()
    assert not text_target.model.training
    grad = captured["embedding"].grad
    assert grad is not None and grad.abs().sum() > 0


def test_hashes_follow_content(tabular_target):
    h = tabular_target.model_sha256()
    copy = da.Target(
        __import__("copy").deepcopy(tabular_target.model),
        modality="tabular",
        data=tabular_target.data,
        device="cpu",
    )
    assert copy.model_sha256() == h
    with torch.no_grad():
        copy.model[0].weight[0, 0] += 1e-3
    assert copy.model_sha256() != h
    d = tabular_target.data_sha256()
    tabular_target.labels[0] = 1 - tabular_target.labels[0]
    assert tabular_target.data_sha256() != d


def test_autoencoder_threshold_is_the_reference_error_quantile(autoencoder_target):
    ref = autoencoder_target.reference_data
    with torch.no_grad():
        err = ((autoencoder_target.model(ref) - ref) ** 2).mean(dim=1).numpy()
    assert autoencoder_target.anomaly_threshold == pytest.approx(np.quantile(err, 0.95), rel=1e-6)
    flags = autoencoder_target.predict()
    assert flags.mean() == pytest.approx(
        (autoencoder_target.score() > np.quantile(err, 0.95)).mean()
    )
    with pytest.raises(NotApplicableError, match="predict_logits"):
        autoencoder_target.predict_logits()


def test_generator_samples_are_seeded(generator_target):
    a = generator_target.generate(10, seed=3)
    b = generator_target.generate(10, seed=3)
    c = generator_target.generate(10, seed=4)
    assert a.shape == (10, 1, 4, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    score = generator_target.score(a)
    assert score.shape == (10,) and ((score > 0) & (score < 1)).all()


def test_subset_keeps_rows_aligned(tabular_target):
    idx = np.array([5, 1, 7])
    sub = tabular_target.subset(idx)
    assert torch.equal(sub.data, tabular_target.data[idx])
    np.testing.assert_array_equal(sub.labels, tabular_target.labels[idx])
    assert list(sub.sensitive["sex"]) == list(tabular_target.sensitive["sex"].iloc[idx])


def test_an_attribute_named_count_is_described_as_itself(rng):
    # the levels' count column once overwrote an attribute called "count"
    X = rng.normal(size=(40, 2)).astype(np.float32)
    target = da.Target(
        torch.nn.Linear(2, 2),
        modality="tabular",
        data=X,
        labels=(X[:, 0] > 0).astype(np.int64),
        sensitive={"count": np.where(X[:, 1] > 0, "many", "few"), "group": ["a", "b"] * 20},
        device="cpu",
    )
    assert target.describe()["sensitive"] == {"count": ["few", "many"], "group": ["a", "b"]}
    levels = target.sensitive_levels()
    assert levels[["count", "group"]].drop_duplicates().shape[0] == len(levels)
    assert int(levels.iloc[:, -1].sum()) == 40
