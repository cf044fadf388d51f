"""group_metrics and disparities against fairlearn's MetricFrame and hand-worked answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from deepaudit.audit.fairness import METRICS, disparities, group_metrics
from deepaudit.audit.fairness.metrics import TOP_LABEL
from deepaudit.audit.overview import expected_calibration_error

TOL = 1e-9


def calibration_loop(y, s, n_bins=10):
    """Calibration error written out bin by bin (independent of the cell table)."""
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        inside = (s > lo) & (s <= hi) if b > 0 else (s >= lo) & (s <= hi)
        total += abs(y[inside].sum() - s[inside].sum())
    return total / len(y)


def fairlearn_frame(y, s, groups, threshold=0.5):
    """MetricFrame of the same metrics; each metric thresholds the scores itself."""

    def at(metric):
        return lambda y_t, s_p: metric(y_t, (s_p > threshold).astype(int))

    metrics = {
        "count": count,
        "selection_rate": at(selection_rate),
        "accuracy": at(accuracy_score),
        "tpr": at(true_positive_rate),
        "fpr": at(false_positive_rate),
        "fnr": at(false_negative_rate),
        "precision": at(lambda a, b: precision_score(a, b, zero_division=np.nan)),
        "base_rate": lambda y_t, s_p: float(np.mean(y_t)),
        "calibration_error": lambda y_t, s_p: calibration_loop(y_t, s_p),
        "mean_score": lambda y_t, s_p: float(np.mean(s_p)),
    }
    return MetricFrame(metrics=metrics, y_true=y, y_pred=s, sensitive_features=groups)


@pytest.fixture
def binary_data(rng):
    n = 1000
    groups = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    s = rng.beta(2, 2, size=n)
    y = (rng.random(n) < np.where(groups == "b", s * 0.7, s)).astype(int)
    return y, s, groups


def _check_against(frame, mf, class_name):
    part = frame[frame["class"] == class_name].set_index("group")
    for metric in ("count", *METRICS):
        expected_overall = float(mf.overall[metric])
        assert part.loc["overall", metric] == pytest.approx(expected_overall, abs=TOL), metric
        for group, value in mf.by_group[metric].items():
            assert part.loc[str(group), metric] == pytest.approx(float(value), abs=TOL), (
                metric,
                group,
            )


@pytest.mark.parametrize("threshold", [0.5, 0.72])
def test_binary_group_metrics_equal_metricframe(binary_data, threshold):
    y, s, groups = binary_data
    frame = group_metrics(y, s, groups, threshold=threshold)
    assert list(frame["group"]) == ["overall", "a", "b", "c"]
    assert set(frame["class"]) == {"1"}
    mf = fairlearn_frame(y, s, groups, threshold)
    _check_against(frame, mf, "1")


def test_intersections_equal_metricframe_on_two_features(binary_data, rng):
    y, s, groups = binary_data
    sensitive = pd.DataFrame({"g": groups, "h": rng.choice(["x", "y"], size=len(y))})
    frame = group_metrics(y, s, sensitive)
    mf = fairlearn_frame(y, s, sensitive)
    part = frame.set_index("group")
    for (g, h), value in mf.by_group["tpr"].items():
        assert part.loc[f"{g} & {h}", "tpr"] == pytest.approx(float(value), abs=TOL)
    for (g, h), value in mf.by_group["calibration_error"].items():
        assert part.loc[f"{g} & {h}", "calibration_error"] == pytest.approx(float(value), abs=TOL)
    assert len(part) == 1 + 6


def test_groups_whose_names_hold_the_separator_stay_apart_and_equal_metricframe(binary_data, rng):
    """("x & y", "z") and ("x", "y & z") would both read "x & y & z": each is its own
    group, with its own label, and its metrics are fairlearn's for that tuple."""
    from deepaudit.intersections import join_parts, split_parts

    y, s, _ = binary_data
    pairs = [("x & y", "z"), ("x", "y & z"), ("x", "z"), ('"q"', "z")]
    chosen = rng.integers(0, len(pairs), len(y))
    sensitive = pd.DataFrame(
        {"a & b": [pairs[i][0] for i in chosen], "c": [pairs[i][1] for i in chosen]}
    )
    frame = group_metrics(y, s, sensitive)
    labels = [g for g in frame["group"] if g != "overall"]
    assert len(labels) == len(set(labels)) == 4
    assert sorted(tuple(split_parts(g)) for g in labels) == sorted(pairs)
    mf = fairlearn_frame(y, s, sensitive)
    part = frame.set_index("group")
    for key in pairs:  # fairlearn lists every combination; these are the ones present
        value = mf.by_group["tpr"][key]
        assert part.loc[join_parts(key), "tpr"] == pytest.approx(float(value), abs=TOL)
    for parts in [("a",), ("a", "b"), ("x & y", "z"), ('"', ""), ("", ""), ('a "b"', " & ")]:
        assert split_parts(join_parts(parts)) == list(parts)


def test_multiclass_is_one_vs_rest_per_class(rng):
    n = 600
    proba = rng.dirichlet(np.ones(3), size=n)
    y = rng.integers(0, 3, n)
    groups = rng.choice(["p", "q"], size=n)
    frame = group_metrics(y, proba, groups, threshold=None, class_names=["x", "y", "z"])
    assert list(dict.fromkeys(frame["class"])) == ["x", "y", "z", TOP_LABEL]
    pred = proba.argmax(1)
    for k, name in enumerate(["x", "y", "z"]):
        # One-vs-rest: label y == k, decision argmax == k, score proba[:, k].
        decision = (pred == k).astype(float)
        mf = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "accuracy": accuracy_score,
            },
            y_true=(y == k).astype(int),
            y_pred=decision,
            sensitive_features=groups,
        )
        part = frame[frame["class"] == name].set_index("group")
        for metric in ("selection_rate", "tpr", "fpr", "accuracy"):
            for group, value in mf.by_group[metric].items():
                assert part.loc[group, metric] == pytest.approx(float(value), abs=TOL)
        for group in ("p", "q"):
            mask = groups == group
            assert part.loc[group, "calibration_error"] == pytest.approx(
                calibration_loop((y[mask] == k).astype(int), proba[mask, k]), abs=TOL
            )


def test_top_label_slice_is_accuracy_and_overview_ece(rng):
    n = 1500
    proba = rng.dirichlet(np.ones(4) * 0.7, size=n)
    y = rng.integers(0, 4, n)
    groups = rng.choice(["p", "q", "r"], size=n)
    frame = group_metrics(y, proba, groups, threshold=None)
    top = frame[frame["class"] == TOP_LABEL].set_index("group")
    for group in ("p", "q", "r"):
        mask = groups == group
        assert top.loc[group, "accuracy"] == pytest.approx(
            accuracy_score(y[mask], proba[mask].argmax(1)), abs=TOL
        )
        ece, _ = expected_calibration_error(proba[mask], y[mask], n_bins=10)
        assert top.loc[group, "calibration_error"] == pytest.approx(ece, abs=TOL)
        assert np.isnan(top.loc[group, "selection_rate"])  # meaningless on this slice


def test_two_column_probabilities_read_as_binary(binary_data):
    y, s, groups = binary_data
    pd.testing.assert_frame_equal(
        group_metrics(y, np.column_stack([1 - s, s]), groups), group_metrics(y, s, groups)
    )


def test_hand_worked_example():
    #        a: y=1 s=.9 (TP), y=0 s=.8 (FP), y=1 s=.2 (FN)   b: y=0 s=.1 (TN), y=1 s=.7 (TP)
    y = np.array([1, 0, 1, 0, 1])
    s = np.array([0.9, 0.8, 0.2, 0.1, 0.7])
    groups = np.array(["a", "a", "a", "b", "b"])
    frame = group_metrics(y, s, groups).set_index("group")
    a, b = frame.loc["a"], frame.loc["b"]
    assert a["selection_rate"] == pytest.approx(2 / 3)
    assert a["tpr"] == pytest.approx(1 / 2) and a["fnr"] == pytest.approx(1 / 2)
    assert a["fpr"] == 1.0 and a["precision"] == pytest.approx(1 / 2)
    assert b["tpr"] == 1.0 and b["fpr"] == 0.0 and b["accuracy"] == 1.0
    # Calibration: bins (0.8, 0.9]: |1 - .9|, (0.7, 0.8]: |0 - .8|, (0.1, 0.2]: |1 - .2|
    assert a["calibration_error"] == pytest.approx((0.1 + 0.8 + 0.8) / 3)
    gaps = disparities(group_metrics(y, s, groups)).set_index("measure")
    assert gaps.loc["demographic_parity", "difference"] == pytest.approx(2 / 3 - 1 / 2)
    assert gaps.loc["demographic_parity", "ratio"] == pytest.approx(0.5 / (2 / 3))
    assert gaps.loc["equalized_odds", "difference"] == pytest.approx(1.0)  # FPR 1 vs 0
    assert gaps.loc["demographic_parity", "lowest_group"] == "b"


def test_undefined_rates_are_nan():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.2, 0.3, 0.9, 0.1])
    frame = group_metrics(y, s, ["a", "a", "b", "b"]).set_index("group")
    assert np.isnan(frame.loc["a", "tpr"])  # group a has no positives
    assert np.isnan(frame.loc["a", "precision"])  # ... and no predicted positives
    assert frame.loc["b", "fpr"] != frame.loc["b", "fpr"]  # no negatives in b


def test_disparities_equal_fairlearn(binary_data):
    y, s, groups = binary_data
    pred = (s > 0.5).astype(int)
    gaps = disparities(group_metrics(y, s, groups)).set_index("measure")
    kw = {"sensitive_features": groups}
    dp = gaps.loc["demographic_parity"]
    assert dp["difference"] == pytest.approx(demographic_parity_difference(y, pred, **kw), abs=TOL)
    assert dp["ratio"] == pytest.approx(demographic_parity_ratio(y, pred, **kw), abs=TOL)
    eo = gaps.loc["equalized_odds"]
    assert eo["difference"] == pytest.approx(equalized_odds_difference(y, pred, **kw), abs=TOL)
    assert eo["ratio"] == pytest.approx(equalized_odds_ratio(y, pred, **kw), abs=TOL)
    mf = MetricFrame(
        metrics={"tpr": true_positive_rate, "precision": precision_score},
        y_true=y,
        y_pred=pred,
        sensitive_features=groups,
    )
    eop = gaps.loc["equal_opportunity"]
    assert eop["difference"] == pytest.approx(mf.difference()["tpr"], abs=TOL)
    assert eop["difference_to_overall"] == pytest.approx(
        mf.difference(method="to_overall")["tpr"], abs=TOL
    )
    assert eop["ratio_to_overall"] == pytest.approx(mf.ratio(method="to_overall")["tpr"], abs=TOL)
    assert gaps.loc["predictive_parity", "difference"] == pytest.approx(
        mf.difference()["precision"], abs=TOL
    )


def test_min_count_leaves_small_groups_out(binary_data):
    y, s, groups = binary_data
    groups = groups.copy()
    groups[:5] = "tiny"
    frame = group_metrics(y, s, groups)
    everyone = disparities(frame).set_index("measure")
    large = disparities(frame, min_count=30).set_index("measure")
    kept = frame[(frame["group"] != "overall") & (frame["count"] >= 30)]
    dp = kept["selection_rate"]
    assert large.loc["demographic_parity", "difference"] == pytest.approx(dp.max() - dp.min())
    assert large.loc["demographic_parity", "n_groups"] == 3
    assert everyone.loc["demographic_parity", "n_groups"] == 4
