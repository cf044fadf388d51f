"""Integrated Gradients meets its own completeness check on every reference model with
the default settings: its attributions add up to the output difference within
``max_completeness_gap`` (1 %), measured against the outputs' own size, with the steps
it chose recorded."""

from __future__ import annotations

import pytest

import deepaudit as da
from deepaudit.audit.explain import ExplainConfig
from deepaudit.models import list_models


@pytest.mark.parametrize("name", list_models())
def test_integrated_gradients_is_complete_with_the_defaults(name, loaded_models):
    target = loaded_models(name)
    config = da.AuditConfig(
        families=["explain"],
        options={"explain": {"methods": ["integrated_gradients"], "progress": False}},
        seed=0,
        progress=False,
    )
    result = da.run_audit(target, config)["explain"]
    row = next(r for r in result.tables["quality"] if r["method"] == "integrated_gradients")
    defaults = ExplainConfig()
    assert row["completeness_gap"] <= defaults.max_completeness_gap, row["steps"]
    assert defaults.n_steps <= row["steps"] <= defaults.max_steps
    assert result.metrics["ig_steps"] == row["steps"]
    finding = next(f for f in result.findings if f.check == "completeness")
    assert finding.severity == "pass"
    assert f"with {row['steps']} steps" in finding.message


@pytest.mark.slow
def test_every_row_integrated_gradients_of_the_autoencoder_is_complete(loaded_models):
    # Its outputs are tiny (a reconstruction error of about 0.005) and its ReLU kinks need
    # many steps: the case where a relative error once read 260 %.
    target = loaded_models("autoencoder")
    options = {"methods": ["integrated_gradients"], "every_row": True, "progress": False}
    config = da.AuditConfig(
        families=["explain"], options={"explain": options}, seed=0, progress=False,
        max_samples=500,
    )  # fmt: skip
    metrics = da.run_audit(target, config)["explain"].metrics
    assert metrics["every_row_n"] == 500
    assert metrics["every_row_ig_steps"] == metrics["ig_steps"]
    assert metrics["every_row_completeness_gap"] <= ExplainConfig().max_completeness_gap
