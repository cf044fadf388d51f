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


def text(ids):
    vocab = ["<pad>", "<unk>", "good", "bad"]
    model = nn.Sequential(nn.Embedding(4, 2), nn.Flatten(), nn.Linear(6, 2))
    target = da.Target(model, modality="text", data=np.abs(ids), vocab=vocab, device="cpu")
    target.data = torch.as_tensor(ids)  # ids as a careless caller's pipeline left them
    return target


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
    "negative token ids": (
        lambda: text(np.array([[2, 3, -1], [2, 2, 3]] * 5)),
        "data",
        "token ids in [0, 3]",
        "ids ranging over [-1, 3]",
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
