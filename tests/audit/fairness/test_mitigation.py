"""Mitigation with ThresholdOptimizer: before/after table, thresholds and trade-off curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)

import deepaudit as da
from deepaudit.audit.fairness import FairnessConfig
from deepaudit.audit.fairness.mitigation import decision_summary, mitigate
from tests.audit.fairness.fairness_toys import audit, group_target


def test_decision_summary_equals_fairlearn(rng):
    y = rng.integers(0, 2, 500)
    decisions = rng.integers(0, 2, 500)
    groups = rng.choice(["a", "b", "c"], 500)
    row = decision_summary("x", y, decisions, groups)
    kw = {"sensitive_features": groups}
    assert row["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y, decisions, **kw), abs=1e-12
    )
    assert row["demographic_parity_ratio"] == pytest.approx(
        demographic_parity_ratio(y, decisions, **kw), abs=1e-12
    )
    assert row["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, decisions, **kw), abs=1e-12
    )
    assert row["accuracy"] == pytest.approx(np.mean(y == decisions))
    assert row["selection_rate[b]"] == pytest.approx(decisions[groups == "b"].mean())


@pytest.fixture(scope="module")
def mitigated():
    """ThresholdOptimizer on scores that push group b down (fitted once for the module)."""
    rng = np.random.default_rng(0)
    n = 2000
    groups = rng.choice(np.array(["a", "b"]), n)
    y = rng.integers(0, 2, n)
    # Group b's scores are pushed down: far fewer of b are selected at 0.5.
    s = np.clip(0.3 * y + rng.random(n) * 0.7 - np.where(groups == "b", 0.25, 0.0), 0, 1)
    return y, mitigate(y, s, groups, "g", FairnessConfig(n_thresholds=11), seed=0)


def test_threshold_optimizer_closes_the_selection_gap(mitigated):
    y, out = mitigated
    before, after = out["table"]
    assert before["demographic_parity_difference"] > 0.2
    assert after["demographic_parity_difference"] < 0.08
    assert out["n_fit"] + out["n_eval"] == len(y)
    assert {row["group"] for row in out["thresholds"]} == {"a", "b"}


def test_tradeoff_curve_known_points(mitigated):
    _, out = mitigated
    curve = pd.DataFrame(out["curve"])
    sweep = curve[curve["method"] == "global threshold"]
    assert len(sweep) == 11
    # Threshold 1: nobody is selected (scores never exceed 1): no gap, accuracy = 1 - base rate.
    last = sweep.iloc[-1]
    assert last["demographic_parity_difference"] == 0.0
    before = curve[curve["method"] == "before"].iloc[0]
    mid = sweep[np.isclose(sweep["parameter"], 0.5)].iloc[0]
    assert before["accuracy"] == mid["accuracy"]
    tolerances = curve[curve["method"] == "ThresholdOptimizer tol"]
    assert len(tolerances) == 5 and tolerances["parameter"].iloc[0] == 0.0
    # Relaxing the constraint never forces a larger gap than the tolerance allows (roughly:
    # it is fitted on the other half).
    assert (tolerances["demographic_parity_difference"] <= tolerances["parameter"] + 0.08).all()


def test_the_family_reports_mitigation_for_binary_models_only(image_target):
    bundle = audit(
        group_target(seed=0, n=600, group_weight=1.5), counterfactual=False, n_bootstrap=50
    )
    result = bundle["fairness"]
    table = pd.DataFrame(result.tables["mitigation"])
    assert list(table["stage"]) == [
        "before (threshold 0.5)",
        "after: ThresholdOptimizer(demographic_parity)",
    ]
    assert result.metrics["dp_difference_after"] < result.metrics["dp_difference_before"]
    assert result.metrics["mitigation_attribute"] == "group"
    image_target.sensitive = pd.DataFrame({"g": np.arange(30) % 2})
    multiclass = audit(image_target, counterfactual=False, n_bootstrap=20)["fairness"]
    assert "mitigation" not in multiclass.tables
    assert (
        "Mitigation was skipped: fairlearn's ThresholdOptimizer post-processes binary "
        "classifiers only." in multiclass.notes
    )


def test_groups_with_one_label_class_are_left_out_of_mitigation_and_the_audit_completes():
    # fairlearn's ThresholdOptimizer raises "Degenerate labels for sensitive feature value"
    # on such a group, after the rest of the audit had run
    from tests.audit.fairness.fairness_toys import audit, linear_model

    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=(n, 1)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    group = np.where(np.arange(n) % 2 == 0, "a", "b").astype(object)
    group[:6] = "tiny"  # 6 samples, all relabelled one class
    y[:6] = 1
    group[6] = "one"  # a group of one sample
    target = da.Target(
        linear_model([2.0]),
        kind="classifier",
        modality="tabular",
        data=x,
        labels=y,
        class_names=["no", "yes"],
        sensitive={"group": group.astype(str)},
        device="cpu",
    )
    result = audit(target, n_bootstrap=50, min_group_size=2)["fairness"]
    assert len(result.tables["mitigation"]) == 2  # before and after, for groups a and b
    note = next(n for n in result.notes if n.startswith("Mitigation left out"))
    assert "tiny (6 samples)" in note and "one (1 samples)" in note
    assert {r["group"] for r in result.tables["mitigation_thresholds"]} == {"a", "b"}
