"""The explain family on the reference models at the default config: the tables the views
need, and the planted or known effects found (slow: each loads and audits a real model)."""

from __future__ import annotations

import numpy as np
import pytest

import deepaudit as da
from deepaudit.models import load_model

pytestmark = pytest.mark.slow


def _explain(name: str) -> da.FamilyResult:
    target = load_model(name, device="cpu")
    config = da.AuditConfig(
        families=["explain"], options={"explain": {"progress": False}}, progress=False
    )
    return da.run_audit(target, config)["explain"]


@pytest.mark.parametrize("name", ["transformer", "cnn", "lstm", "autoencoder", "gan"])
def test_reference_models_produce_the_tables_of_the_view(name):
    result = _explain(name)
    for table in ("quality", "randomisation", "agreement", "cost", "samples"):
        assert result.tables[table], table
    methods = [r["method"] for r in result.tables["quality"] if r["method"] != "random"]
    for method in methods:
        assert np.isfinite(result.arrays[f"deletion_curve_{method}"]).all()
        assert f"attributions_{method}" in result.arrays
    best = result.metrics["best_faithfulness"]
    assert best > result.metrics["random_faithfulness"]  # some method beats chance
    for finding in result.findings:
        assert finding.evidence.view in result.tables


def test_the_cnn_leans_on_its_planted_colour_cue():
    result = _explain("cnn")
    share = result.metrics["colour_share"]
    assert 0.1 < share < 0.6  # a colour-blind model would score 0
    assert {r["attribute"] for r in result.tables["colour_share"]} == {"all", "colour", "cue"}
    finding = next(f for f in result.findings if f.check == "colour_share")
    assert finding.severity == "warn"
    ig = next(r for r in result.tables["quality"] if r["method"] == "integrated_gradients")
    assert ig["sanity"] == "pass" and ig["completeness_gap"] < 0.05


def test_the_transformer_reports_its_sensitive_features_as_one_feature_each():
    result = _explain("transformer")
    shares = {(r["attribute"], r["method"]) for r in result.tables["sensitive_share"]}
    assert ("sex", "kernel_shap") in shares and ("age_band", "kernel_shap") in shares
    features = [r["feature"] for r in result.tables["global_importance"]]
    assert len(features) == 13 and "sex" in features
    importance = {r["feature"]: r for r in result.tables["global_importance"]}
    assert np.isnan(importance["sex"]["integrated_gradients"])  # an integer-coded category
    top = max(importance.values(), key=lambda r: r["kernel_shap"])["feature"]
    assert top in ("marital-status", "relationship", "age", "capital-gain")


def test_the_lstm_attributes_tokens():
    result = _explain("lstm")
    rows = result.tables["token_attributions"]
    assert rows and {"integrated_gradients", "occlusion", "lime"} <= set(rows[0])
    tokens = result.arrays["tokens"]
    assert (tokens[:, 0] != "").all()
    agreement = {
        (r["method_a"], r["method_b"]): r["rank_correlation"] for r in result.tables["agreement"]
    }
    assert agreement[("integrated_gradients", "occlusion")] > 0.3  # two methods, one story
