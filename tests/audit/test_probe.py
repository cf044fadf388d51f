"""Data and model that do not fit: refused before any family runs, naming the argument.

Each case used to fail deep inside an audit with a torch or numpy error, or to pass
silently (a model returning probabilities "passed" calibration on their softmax).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import ValidationError


class Returns(nn.Module):
    """A model whose output is ``fn(x)``: what a user's model might return."""

    def __init__(self, fn, width: int = 3) -> None:
        super().__init__()
        self.linear = nn.Linear(width, 2)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.linear(x.float().reshape(len(x), -1)[:, : self.linear.in_features]))


def tabular(model, *, width: int = 3, labels=None, class_names=("no", "yes"), n: int = 40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, width)).astype(np.float32)
    return da.Target(
        model,
        modality="tabular",
        data=x,
        labels=(x[:, 0] > 0).astype(np.int64) if labels is None else labels,
        class_names=None if class_names is None else list(class_names),
        device="cpu",
    )


def image(model, data):
    return da.Target(
        model,
        modality="image",
        data=data,
        labels=np.zeros(len(data), dtype=np.int64),
        input_range=(0.0, 1.0),
        device="cpu",
    )


CASES = {
    "wrong tabular width": (
        lambda: tabular(nn.Linear(4, 2)),
        "model",
        "a model that accepts the Target's data",
        "RuntimeError on a batch of shape (8, 3)",
    ),
    "wrong channel count": (
        lambda: image(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten()), torch.rand(10, 1, 8, 8)),
        "model",
        "a model that accepts the Target's data",
        "RuntimeError on a batch of shape (8, 1, 8, 8)",
    ),
    "a dict": (
        lambda: tabular(Returns(lambda z: {"logits": z})),
        "model",
        "a model returning a tensor",
        "a model returning a dict",
    ),
    "three logits, two names": (
        lambda: tabular(nn.Linear(3, 3)),
        "class_names",
        "one name per model output (3)",
        "2 names",
    ),
    "label 5 without names": (
        lambda: tabular(nn.Linear(3, 2), labels=np.full(40, 5), class_names=None),
        "labels",
        "class indices in [0, 1] (the model has 2 outputs)",
        "labels ranging over [5, 5]",
    ),
    "label -1 without names": (
        lambda: tabular(nn.Linear(3, 2), labels=np.r_[np.zeros(39), -1], class_names=None),
        "labels",
        "class indices in [0, 1]",
        "labels ranging over [-1, 0]",
    ),
    "NaN logits": (
        lambda: tabular(Returns(lambda z: z * float("nan"))),
        "model",
        "finite outputs",
        "NaN or infinite outputs on 8 rows",
    ),
    "probabilities": (
        lambda: tabular(Returns(lambda z: torch.softmax(z, dim=1))),
        "model",
        "a classifier returning logits",
        "outputs that are probabilities",
    ),
    "pixels in [0, 255]": (
        lambda: image(nn.Sequential(nn.Flatten(), nn.Linear(64, 2)), torch.rand(10, 1, 8, 8) * 255),
        "data",
        "values within input_range [0, 1] (scale the data, e.g. pixels / 255",
        "values over [0",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_any_family_runs(case, tmp_path):
    make, argument, expected, got = CASES[case]
    target = make()
    out = tmp_path / "run"
    with pytest.raises(ValidationError) as caught:
        da.run_audit(target, da.AuditConfig(families=["overview"], output_dir=out))
    message = str(caught.value)
    assert message.startswith(f"The {argument!r} parameter of Target must be {expected}"), message
    assert got in message, message
    assert target.n_evaluations == 0  # the probe is not audit work: no family ran
    assert not out.exists()  # nothing left on disk


def test_an_autoencoder_that_changes_the_shape_is_refused(tmp_path):
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    target = da.Target(nn.Linear(4, 3), kind="autoencoder", modality="tabular", data=x)
    with pytest.raises(ValidationError, match=r"returning its input's shape \(8, 4\)"):
        da.run_audit(target, da.AuditConfig(families=["overview"], output_dir=tmp_path / "r"))


def test_a_model_that_fits_its_data_passes_the_probe(tabular_target):
    from deepaudit.audit.probe import probe_target

    probe_target(tabular_target)  # no error: the fixtures' models fit their data
    assert tabular_target.n_evaluations == 0


X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)

CONSTRUCTION = {
    "string data": (
        lambda: da.Target(nn.Linear(3, 2), modality="tabular", data=np.array([["a"] * 3] * 4)),
        "The 'data' parameter of Target must be a numeric array (encode categories as numbers "
        "before building a Target). Got an array of <U1 values instead.",
    ),
    "a string in feature_ranges": (
        lambda: da.Target(
            nn.Linear(3, 2), modality="tabular", data=X, feature_ranges={"x0": ("a", 1)}
        ),
        "The 'feature_ranges' parameter of Target must be (low, high) pairs of numbers. "
        "Got 'x0': ('a', 1) instead.",
    ),
    "the meta device": (
        lambda: da.Target(nn.Linear(3, 2, device="meta"), modality="tabular", data=X),
        "The 'model' parameter of Target must be a model whose weights are in memory (load "
        "them first, e.g. model.load_state_dict(state, assign=True)). Got a model on the meta "
        "device instead.",
    ),
    "negative token ids": (
        lambda: da.Target(
            nn.Sequential(nn.Embedding(4, 2), nn.Flatten(), nn.Linear(6, 2)),
            modality="text",
            data=np.array([[2, 3, -1], [2, 2, 3]] * 5),
            vocab=["<pad>", "<unk>", "good", "bad"],
        ),
        "The 'data' parameter of Target must be token ids in [0, 3] (one per vocab entry). "
        "Got ids ranging over [-1, 3] instead.",
    ),
    "a tabular generator without real rows": (
        lambda: da.Target(nn.Linear(4, 3), kind="generator", modality="tabular", latent_dim=4),
        "The 'reference_data' parameter of Target must be real rows of the tabular features "
        "(they name and bound them). Got None instead.",
    ),
}


@pytest.mark.parametrize("case", list(CONSTRUCTION))
def test_bad_construction_is_a_clear_error_not_a_library_traceback(case):
    make, message = CONSTRUCTION[case]
    with pytest.raises(ValidationError) as caught:
        make()
    assert str(caught.value) == message


def test_a_tabular_generator_takes_its_features_from_its_real_rows():
    real = np.random.default_rng(1).normal(size=(30, 3)).astype(np.float32)
    target = da.Target(
        nn.Linear(4, 3), kind="generator", modality="tabular", latent_dim=4, reference_data=real
    )
    assert target.feature_names == ["x0", "x1", "x2"]
    assert target.feature_ranges["x1"] == pytest.approx((real[:, 1].min(), real[:, 1].max()))


def test_labels_of_one_class_are_said_so_and_a_single_group_measures_no_gap():
    target = da.Target(
        nn.Linear(3, 2),
        modality="tabular",
        data=X,
        labels=np.ones(40, dtype=np.int64),
        class_names=["no", "yes"],
        sensitive={"g": ["f"] * 40},
    )
    bundle = da.run_audit(target, da.AuditConfig(families=["overview", "fairness"]))
    assert any("No label of class 'no'" in n for n in bundle["overview"].notes)
    assert np.isnan(bundle["overview"].metrics["roc_auc"])
    for finding in bundle["fairness"].findings:
        if finding.check != "small_groups":
            assert "fewer than two groups large enough" in finding.message
            assert finding.severity == "inconclusive"
