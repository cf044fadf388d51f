"""The fairness family end to end: planted bias found, no bias passes, bad input refused."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import deepaudit as da
from deepaudit.audit.fairness import (
    METRICS,
    FairnessConfig,
    SmallGroupWarning,
    anomaly_group_metrics,
    applies_to,
    group_metrics,
    live_inputs,
)
from deepaudit.audit.fairness.inputs import GROUP_OF_ONE_MESSAGE
from deepaudit.errors import ValidationError
from tests.audit.fairness.fairness_toys import audit, finding, group_target

DISPARITY_CHECKS = (
    "demographic_parity",
    "equal_opportunity",
    "equalized_odds",
    "predictive_parity",
    "four_fifths",
    "accuracy_parity",
)
FAST = {"counterfactual": False, "mitigation": False, "n_bootstrap": 200}


def test_planted_label_bias_is_found_with_an_interval_excluding_zero():
    # 40 % of group b's labels are flipped: the model (blind to the group) is right less
    # often there, its TPR falls and its FPR rises; its selection rate does not move.
    bundle = audit(group_target(seed=1, flip_share=0.4), **FAST)
    odds = finding(bundle, "equalized_odds")
    assert odds.severity == "fail"
    low, high = odds.evidence.interval
    assert 0 < odds.evidence.threshold < low <= odds.evidence.value <= high
    assert odds.evidence.group == "group: a vs b" or odds.evidence.group == "group: b vs a"
    accuracy = finding(bundle, "accuracy_parity")
    assert accuracy.severity == "fail" and accuracy.evidence.interval[0] > 0
    tests = pd.DataFrame(bundle["fairness"].tables["disparity_tests"]).set_index("check")
    assert tests.loc["accuracy_parity", "lowest_group"] == "b"
    # The decision itself is group-blind: demographic parity holds.
    assert finding(bundle, "demographic_parity").severity == "pass"
    assert finding(bundle, "four_fifths").severity == "pass"


def test_a_model_ignoring_the_group_never_fails_and_mostly_passes():
    passed = failed = 0
    for seed in range(20):
        # The family's own measuring and grading (run_audit adds provenance, not numbers).
        family, config = da.get_family("fairness"), FairnessConfig(**FAST)
        result = family.run(group_target(seed=100 + seed), config, seed)
        result.findings = family.grade(result, config)
        severities = {finding(result, c).severity for c in DISPARITY_CHECKS}
        passed += severities == {"pass"}
        failed += "fail" in severities
    # n = 2,000: an interval that cannot rule out the limit says inconclusive, never fail
    assert failed == 0 and passed >= 15


def test_group_metrics_table_is_what_group_metrics_returns_live(tmp_path):
    target = group_target(seed=2)
    bundle = audit(target, **FAST)
    loaded = da.load_bundle(bundle.save(tmp_path / "run"))
    result = loaded["fairness"]
    saved = pd.DataFrame(result.tables["group_metrics"])
    columns = ["class", "group", "count", *METRICS]
    live = group_metrics(**live_inputs(result, "group"))
    pd.testing.assert_frame_equal(
        live[columns].reset_index(drop=True),
        saved[saved["grouping"] == "group"][columns].reset_index(drop=True),
        check_exact=True,
    )
    # The slider moves the threshold: fewer selected at 0.8.
    moved = group_metrics(**live_inputs(result, "group", threshold=0.8))
    assert (moved["selection_rate"] < live["selection_rate"]).all()


def test_multiclass_table_is_what_group_metrics_returns_live(image_target):
    image_target.sensitive = pd.DataFrame({"shade": np.where(np.arange(30) < 12, "d", "l")})
    result = audit(image_target, min_group_size=5, counterfactual=False, n_bootstrap=20)
    result = result["fairness"]
    saved = pd.DataFrame(result.tables["group_metrics"])
    columns = ["class", "group", "count", *METRICS]
    live = group_metrics(**live_inputs(result, "shade"))
    assert list(dict.fromkeys(live["class"])) == ["0", "1", "2", "(top label)"]
    pd.testing.assert_frame_equal(
        live[columns], saved[columns].reset_index(drop=True), check_exact=True
    )


def test_the_same_data_gives_the_same_intervals_and_the_sample_seed_moves_them():
    # Interval resamples follow the data (the sample seed), not the audit's seed: on the
    # same samples another seed gives the same intervals, so the same verdicts.
    target = group_target(seed=3)
    one = audit(target, seed=5, **FAST)["fairness"].tables["disparity_tests"]
    two = audit(target, seed=5, **FAST)["fairness"].tables["disparity_tests"]
    reseeded = audit(target, seed=6, **FAST)["fairness"].tables["disparity_tests"]
    other = audit(target, seed=5, sample_seed=1, **FAST)["fairness"].tables["disparity_tests"]
    assert one == two == reseeded
    assert [r["value"] for r in one] == [r["value"] for r in other]
    assert [r["high"] for r in one] != [r["high"] for r in other]


def test_intersections_are_audited_and_small_groups_warned(rng):
    target = group_target(seed=4, n=600)
    target.sensitive["band"] = rng.choice(["x", "y", "z"], size=600, p=[0.48, 0.48, 0.04])
    bundle = audit(target, **FAST)
    result = bundle["fairness"]
    assert result.metrics["groupings"] == ["group", "band", "group & band"]
    groups = pd.DataFrame(result.tables["group_metrics"])
    inter = groups[groups["grouping"] == "group & band"]
    assert set(inter["group"]) == {"overall", "a & x", "a & y", "a & z", "b & x", "b & y", "b & z"}
    small = finding(bundle, "small_groups")
    assert small.severity == "warn"
    assert "band: z (" in small.message and "a & z (" in small.message
    assert inter.set_index("group").loc["a & z", "small"]
    disparity = pd.DataFrame(result.tables["disparities"])
    assert "z" in disparity[disparity["grouping"] == "band"]["excluded_groups"].iloc[0]


def test_simultaneous_intervals_contain_each_tests_own_interval(tabular_target):
    # two attributes and their intersection: three tests per check
    both = audit(tabular_target, **FAST)["fairness"].table("disparity_tests")
    alone = audit(tabular_target, correction="none", **FAST)["fairness"].table("disparity_tests")
    assert both.groupby("check").size().min() == 3
    np.testing.assert_array_equal(both["value"], alone["value"])
    assert (both["low"] <= alone["low"] + 1e-12).all() and (
        both["high"] >= alone["high"] - 1e-12
    ).all()
    assert ((both["high"] - both["low"]) > (alone["high"] - alone["low"])).any()


# -- bad input ---------------------------------------------------------------------------


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1, 1, 0, 1], [0.1, 0.9, 0.8, 0.3], ["a"] * 5)
    assert str(info.value) == (
        "The 'y_score' parameter of group_metrics must have one row per sample (5 rows). "
        "Got 4 rows instead."
    )
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1, 1, 0, 1], [0.1, 0.9, 0.8, 0.3, 0.5], ["a", "b", "a"])
    assert str(info.value) == (
        "The 'groups' parameter of group_metrics must have one row per sample (5 rows). "
        "Got 3 rows instead."
    )


def test_nan_in_a_group_column_is_refused():
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3], ["a", np.nan, "b", "a"])
    assert str(info.value) == (
        "The 'groups' parameter of group_metrics must be a group for every sample. "
        "Got 1 missing value instead."
    )
    frame = pd.DataFrame({"sex": ["f", "m", "f", "m"], "race": ["x", None, None, "y"]})
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3], frame)
    assert str(info.value) == (
        "The \"groups['race']\" parameter of group_metrics must be a group for every sample. "
        "Got 2 missing values instead."
    )


def test_a_group_of_one_sample_is_warned_about():
    y, s = [0, 1, 1, 0, 1], [0.1, 0.9, 0.8, 0.3, 0.6]
    with pytest.warns(SmallGroupWarning, match=re.escape(GROUP_OF_ONE_MESSAGE.format(group="c"))):
        frame = group_metrics(y, s, ["a", "a", "b", "b", "c"])
    assert frame.set_index("group").loc["c", "count"] == 1
    assert GROUP_OF_ONE_MESSAGE.format(group="c") == (
        "Group 'c' has a single sample: its rates are 0 or 1 by construction and say nothing "
        "about the group. Merge it with another group or collect more data."
    )


def test_a_group_of_one_in_an_audit_is_named_in_a_warning_finding():
    target = group_target(seed=6, n=400)
    target.sensitive.loc[0, "group"] = "lonely"
    bundle = audit(target, **FAST)
    small = finding(bundle, "small_groups")
    assert small.severity == "warn" and "group: lonely (1)" in small.message


def test_non_binary_labels_with_one_score_per_sample_are_refused():
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1, 2, 1], [0.1, 0.9, 0.8, 0.3], ["a", "a", "b", "b"])
    assert str(info.value) == (
        "The 'y_true' parameter of group_metrics must be binary labels (0 or 1) for one score "
        "per sample; pass an N×C array of class probabilities for multiclass. "
        "Got labels [0, 1, 2] instead."
    )


def test_scores_outside_zero_one_are_refused():
    with pytest.raises(ValidationError) as info:
        group_metrics([0, 1], [-0.5, 2.0], ["a", "b"])
    assert str(info.value) == (
        "The 'y_score' parameter of group_metrics must be probabilities in [0, 1]. "
        "Got values in [-0.5, 2] instead."
    )


def test_a_sensitive_attribute_not_in_the_data_is_refused_before_any_work():
    target = group_target(seed=7, n=100)
    with pytest.raises(ValidationError) as info:
        audit(target, sensitive_features=["gender"])
    assert str(info.value) == (
        "The 'sensitive_features' parameter of FairnessConfig must be names of the target's "
        "sensitive attributes ('group'). Got ['gender'] instead."
    )
    assert target.n_evaluations == 0


def test_a_bad_attribute_stops_a_multi_family_audit_before_any_family_runs():
    target = group_target(seed=7, n=100)
    config = da.AuditConfig(
        families=["overview", "fairness"],
        options={"fairness": {"sensitive_features": ["gender"]}},
        progress=False,
    )
    with pytest.raises(ValidationError, match="'sensitive_features' parameter"):
        da.run_audit(target, config)
    assert target.n_evaluations == 0  # the overview family never ran


def test_unknown_proxies_and_mitigation_attribute_are_refused():
    target = group_target(seed=7, n=100)
    with pytest.raises(ValidationError, match=r"'proxies' parameter .* Got \['zip'\] instead"):
        audit(target, proxies={"group": ["zip"]})
    with pytest.raises(ValidationError) as info:
        audit(target, mitigation_attribute="sex")
    assert str(info.value) == (
        "The 'mitigation_attribute' parameter of FairnessConfig must be one of the audited "
        "attributes ('group'). Got 'sex' instead."
    )


def test_thorough_budgets_are_larger_and_valid():
    fast, full = FairnessConfig(), FairnessConfig.thorough()
    assert full.n_bootstrap == 2000 > fast.n_bootstrap == 1000
    assert full.max_intersection_order > fast.max_intersection_order
    assert FairnessConfig.thorough(n_bootstrap=50).n_bootstrap == 50


def test_applies_to_says_why_not(image_target, text_target, autoencoder_target, generator_target):
    assert applies_to(text_target) is None
    assert "sensitive attributes" in applies_to(image_target)
    assert "sensitive attributes" in applies_to(autoencoder_target)
    assert "label_model" in applies_to(generator_target)
    assert applies_to(group_target(seed=0, n=50)) is None


def test_anomaly_group_metrics_known_answer():
    errors = np.array([0.1, 0.5, 0.9, 0.2, 0.8, 0.05])
    frame = anomaly_group_metrics(errors, ["a", "a", "a", "b", "b", "b"], threshold=0.4)
    table = frame.set_index("group")
    assert table.loc["overall", "flag_rate"] == pytest.approx(3 / 6)
    assert table.loc["a", "flag_rate"] == pytest.approx(2 / 3)
    assert table.loc["b", "mean_error"] == pytest.approx((0.2 + 0.8 + 0.05) / 3)
    assert list(table["count"]) == [6, 3, 3]
