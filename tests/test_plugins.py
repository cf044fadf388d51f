"""Plugins written outside the package (``tests/plugins``, one file each) run in the audit,
are saved in the bundle and shown in the report, with no other change: an attribution
method, a group metric, an attack and a natural perturbation, each checked against an
answer known independently of deepaudit's own code.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.explain.registry import unregister_attribution
from deepaudit.audit.fairness.registry import unregister_metric
from deepaudit.audit.robustness.registry import unregister_attack, unregister_perturbation
from deepaudit.reports import render_html

PLUGINS = (
    "tests.plugins.attribution_plugin",
    "tests.plugins.metric_plugin",
    "tests.plugins.attack_plugin",
)


@pytest.fixture
def plugins():
    """The plugin modules imported (so registered) for one test, and unregistered after
    (importing them at collection would register them for every other test)."""
    for name in PLUGINS:
        if name in sys.modules:
            importlib.reload(sys.modules[name])
        else:
            importlib.import_module(name)
    yield
    unregister_attribution("gradient_x_input")
    unregister_metric("npv")
    unregister_attack("my_fgsm")
    unregister_perturbation("dim")


def saved_and_loaded(bundle: da.AuditBundle, tmp_path) -> da.AuditBundle:
    bundle.save(tmp_path / "run")
    return da.load_bundle(tmp_path / "run")


def test_registered_names_are_listed_and_refused_after_unregistering(plugins):
    from deepaudit.audit.explain.registry import list_attributions
    from deepaudit.audit.fairness.registry import list_metrics

    assert "gradient_x_input" in list_attributions() and "npv" in list_metrics()
    assert da.ExplainConfig(methods=["gradient_x_input"]).methods == ("gradient_x_input",)
    unregister_attribution("gradient_x_input")
    with pytest.raises(da.errors.ValidationError, match="'methods' parameter of ExplainConfig"):
        da.ExplainConfig(methods=["gradient_x_input"])


def test_an_attribution_method_of_your_own_gives_the_known_answer_and_is_reported(
    plugins, tmp_path
):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    X = np.random.default_rng(0).random((30, 1, 8, 8)).astype(np.float32)
    target = da.Target(model, modality="image", data=X, device="cpu")
    config = da.AuditConfig(
        families=["explain"],
        options={"explain": {"methods": ["gradient_x_input", "saliency"], "progress": False}},
        progress=False,
    )
    bundle = saved_and_loaded(da.run_audit(target, config), tmp_path)
    result = bundle["explain"]
    attributions = result.arrays["attributions_gradient_x_input"]
    classes = result.arrays["classes"]
    weights = model[1].weight.detach().numpy().reshape(3, 1, 8, 8)
    np.testing.assert_allclose(attributions, weights[classes] * result.arrays["inputs"], atol=1e-6)
    quality = {r.method: r for r in result.rows("quality")}
    assert quality["gradient_x_input"].label == "Gradient × input"
    assert np.isfinite(quality["gradient_x_input"].randomisation)  # re-run on a random copy
    assert np.isfinite(quality["gradient_x_input"].faithfulness)
    html = render_html(bundle)
    assert "Gradient × input" in html


def test_a_group_metric_of_your_own_equals_its_formula_on_every_group(
    plugins, tabular_target, tmp_path
):
    config = da.AuditConfig(
        families=["fairness"],
        options={"fairness": {"n_bootstrap": 50, "counterfactual": False, "mitigation": False}},
        progress=False,
    )
    bundle = saved_and_loaded(da.run_audit(tabular_target, config), tmp_path)
    result = bundle["fairness"]
    table = result.table("group_metrics")
    assert {"npv", "npv_low", "npv_high"} <= set(table.columns)
    scores, labels = result.arrays["scores"], result.arrays["labels"]
    predicted = (scores > 0.5).astype(int)
    codes = pd.DataFrame(result.tables["group_codes"])
    for _, code in codes[codes["grouping"] == "sex"].iterrows():
        members = result.arrays["group_codes"][:, code["column"]] == code["code"]
        negatives = members & (predicted == 0)
        expected = np.mean(labels[negatives] == 0)
        row = table[(table["grouping"] == "sex") & (table["group"] == code["group"])]
        assert row["npv"].iloc[0] == pytest.approx(expected, abs=1e-12)
    tests = [t for t in result.rows("disparity_tests") if t.check == "npv_parity"]
    assert tests and all(t.limit == "max_difference" for t in tests)
    finding = next(f for f in result.findings if f.check == "npv_parity")
    assert finding.message.startswith("Negative predictive value gap is ")
    assert "npv_parity" in render_html(bundle)


def test_an_attack_of_your_own_matches_the_built_in_fgsm_and_is_graded(
    plugins, image_target, tmp_path
):
    options = {"n_samples": 30, "query_samples": 0, "natural_levels": 3, "progress": False}
    config = da.AuditConfig(
        families=["robustness"], options={"robustness": options}, progress=False
    )
    bundle = saved_and_loaded(da.run_audit(image_target, config), tmp_path)
    result = bundle["robustness"]
    curve = result.table("curve")
    eps = result.metrics["reference_epsilon_Linf"]
    mine = curve[(curve["attack"] == "my_fgsm") & (curve["epsilon"] == eps)]
    theirs = curve[(curve["attack"] == "FGSM") & (curve["epsilon"] == eps)]
    assert len(mine) == len(theirs) > 0
    np.testing.assert_array_equal(mine["accuracy"].to_numpy(), theirs["accuracy"].to_numpy())
    assert set(curve[curve["attack"] == "my_fgsm"]["epsilon"]) == set(
        curve[curve["attack"] == "PGD"]["epsilon"]
    ) - {0.0}
    finding = next(f for f in result.findings if f.check == "attack:my_fgsm")
    assert finding.evidence.value == mine[mine["attribute"] == "overall"]["accuracy"].iloc[0]
    html = render_html(bundle)
    assert "my_fgsm" in html and "registered attack" in html


def test_a_perturbation_of_your_own_is_scored_beside_the_built_in_ones(
    plugins, image_target, tmp_path
):
    options = {"n_samples": 10, "query_samples": 0, "natural_levels": 3, "progress": False}
    config = da.AuditConfig(
        families=["robustness"], options={"robustness": options}, progress=False
    )
    result = saved_and_loaded(da.run_audit(image_target, config), tmp_path)["robustness"]
    natural = result.table("natural")
    dim = natural[(natural["perturbation"] == "dim") & (natural["attribute"] == "overall")]
    assert list(dim["severity"]) == [0.3, 0.6, 0.9]
    x = image_target.data  # natural_samples (200) covers all 30 samples
    for severity, accuracy in zip(dim["severity"], dim["accuracy"], strict=True):
        predicted = image_target.predict(x * (1 - severity))
        assert accuracy == pytest.approx(np.mean(predicted == image_target.labels))


class _EntryPoint:
    def __init__(self, name, value):
        self.name, self.value = name, value

    def load(self):
        return importlib.import_module(self.value)


def test_installed_plugins_are_loaded_from_their_entry_point_once(monkeypatch):
    from deepaudit import plugins as plugin_module
    from deepaudit.audit.fairness.registry import list_metrics

    calls = []

    def entry_points(group):
        calls.append(group)
        return [
            _EntryPoint("metric", "tests.plugins.metric_plugin"),
            _EntryPoint("broken", "tests.plugins.no_such_module"),
        ]

    unregister_metric("npv")
    monkeypatch.setattr(plugin_module, "entry_points", entry_points)
    monkeypatch.setattr(plugin_module, "_loaded", False)
    monkeypatch.delitem(sys.modules, "tests.plugins.metric_plugin", raising=False)
    try:
        with pytest.warns(plugin_module.PluginWarning, match="'broken'.*failed to import"):
            assert "npv" in list_metrics()
        assert "npv" in list_metrics() and calls == ["deepaudit.plugins"]
    finally:
        unregister_metric("npv")


def test_names_that_would_collide_with_a_table_column_are_refused():
    from deepaudit.errors import ValidationError

    with pytest.raises(ValidationError, match="a name no built-in method or table column has"):
        da.register_attribution("random", lambda *a: None)
    with pytest.raises(ValidationError, match="a name no built-in metric or table column has"):
        da.register_metric("small", lambda tp, fp, fn, tn: tp)
    with pytest.raises(ValidationError, match="nor ending in _low or _high"):
        da.register_metric("npv_low", lambda tp, fp, fn, tn: tp)
