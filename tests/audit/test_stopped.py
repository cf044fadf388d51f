"""A model that raises part-way through an audit: the error says where, and the families
that finished are kept, marked incomplete wherever the run is shown."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import AuditStoppedError, ModelCallError


class BreaksAfter(nn.Module):
    """A classifier that raises once it has seen ``limit`` samples."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        self.limit, self.seen = limit, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen += len(x)
        if self.seen > self.limit:
            raise RuntimeError("CUDA out of memory (simulated)")
        return self.net(x)


def _target(limit: int) -> da.Target:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    return da.Target(
        BreaksAfter(limit),
        modality="tabular",
        data=X,
        labels=(X[:, 0] > 0).astype(int),
        sensitive={"g": np.where(X[:, 1] > 0, "a", "b")},
        device="cpu",
    )


def _config(tmp_path=None):
    return da.AuditConfig(
        families=["overview", "robustness"],
        progress=False,
        output_dir=None if tmp_path is None else tmp_path / "run",
    )


def test_the_error_names_the_family_the_module_and_the_batch(tmp_path):
    target = _target(limit=10**9)
    da.run_audit(target, _config())  # the budget an audit spends on this model
    spent = target.model.seen
    target = _target(limit=spent // 2)
    with pytest.raises(AuditStoppedError) as info:
        da.run_audit(target, _config(tmp_path))
    message = str(info.value)
    assert message.startswith("The 'robustness' audit family stopped: The model raised ")
    assert "RuntimeError: CUDA out of memory (simulated) on a batch of shape (" in message
    assert "float32, on cpu" in message
    assert isinstance(info.value.__cause__, ModelCallError)
    assert isinstance(info.value.__cause__.__cause__, RuntimeError)
    assert info.value.family == "robustness"
    assert f"were saved to {tmp_path / 'run'}, marked incomplete." in message


def test_what_finished_is_saved_marked_incomplete_and_shown_so(tmp_path):
    from deepaudit.reports import findings_json, findings_markdown, render_html

    target = _target(limit=10**9)
    da.run_audit(target, _config())
    target = _target(limit=target.model.seen // 2)
    with pytest.raises(AuditStoppedError) as info:
        da.run_audit(target, _config(tmp_path))
    loaded = da.load_bundle(tmp_path / "run")
    assert list(loaded.families) == ["overview"]
    assert loaded.incomplete["stopped_in"] == "robustness"
    assert loaded.incomplete["not_run"] == ["robustness"]
    assert info.value.bundle.incomplete == loaded.incomplete
    text = loaded.incomplete_text
    assert text.startswith("Incomplete run: it stopped in the 'robustness' family")
    assert "INCOMPLETE" in repr(loaded)
    assert "Incomplete run" in loaded._repr_html_()
    assert "Incomplete run" in render_html(loaded)
    assert "Incomplete run" in findings_markdown(loaded)
    assert json.loads(findings_json(loaded))["incomplete"]["stopped_in"] == "robustness"
    complete = da.run_audit(_target(limit=10**9), _config())
    assert complete.incomplete is None and complete.incomplete_text is None
    assert "Incomplete run" not in render_html(complete)


def test_a_first_family_that_stops_keeps_nothing(tmp_path):
    target = _target(limit=10**9)
    config = da.AuditConfig(families=["overview"], progress=False, output_dir=tmp_path / "run")
    target.model.limit = 0  # the probe's one batch passes; the family's first one does not
    target.model.seen = -len(target.data)
    with pytest.raises(AuditStoppedError) as info:
        da.run_audit(target, config)
    assert str(info.value).endswith("No family had finished: nothing was kept.")
    assert info.value.bundle is None
    assert not (tmp_path / "run").exists()
