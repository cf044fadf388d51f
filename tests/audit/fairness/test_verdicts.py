"""What the fairness findings say: a selection-rate gap that only mirrors base rates,
the headline naming the smallest grouping that carries a gap, equal groups said so."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.fairness.grade import pair_text
from tests.audit.fairness.fairness_toys import audit, finding, group_target

FAST = {"counterfactual": False, "mitigation": False, "n_bootstrap": 200}


class Threshold(nn.Module):
    """Logit ``10 · (x0 - 0.5)``: predicts from the first feature only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 10 * (x[:, :1] - 0.5)


def mirrored_target(seed: int = 0, n: int = 4000) -> da.Target:
    """Group b is positive three times as often as group a (0.6 vs 0.2), and the model
    predicts every label right: its selection-rate gap is the base-rate gap exactly."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b"]), size=n)
    y = (rng.random(n) < np.where(group == "b", 0.6, 0.2)).astype(np.int64)
    x = np.stack([y + rng.normal(scale=0.05, size=n), rng.normal(size=n)], axis=1)
    return da.Target(
        Threshold(), kind="classifier", modality="tabular", data=x.astype(np.float32),
        labels=y, class_names=["no", "yes"], sensitive={"group": group},
        feature_names=["signal", "noise"], device="cpu",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("choice", "severity"), [("warn", "warn"), ("as_measured", "fail"), ("inconclusive", None)]
)
def test_a_parity_gap_that_mirrors_base_rates_is_graded_as_configured(choice, severity):
    bundle = audit(mirrored_target(), mirrored_parity=choice, **FAST)
    parity = finding(bundle, "demographic_parity")
    expected = severity or "inconclusive"
    assert parity.severity == expected
    assert parity.evidence.value == pytest.approx(0.4, abs=0.05)
    assert "base rates differ by" in parity.message and "mirrors who is positive" in parity.message
    (row,) = [
        r
        for r in bundle["fairness"].tables["disparity_tests"]
        if r["check"] == "demographic_parity"
    ]
    assert row["mirrors_base_rate"] is True
    assert row["base_rate_gap"] == pytest.approx(row["value"], abs=0.02)
    # The error rates, which do not depend on base rates, are equal.
    assert finding(bundle, "equal_opportunity").severity == "pass"


def test_a_parity_finding_states_the_base_rate_gap_when_it_does_not_mirror_it():
    target = mirrored_target()
    target.labels = np.random.default_rng(1).integers(0, 2, target.n_samples)  # noise labels
    parity = finding(audit(target, **FAST), "demographic_parity")
    assert "base rates differ by" in parity.message
    assert "mirrors" not in parity.message


def noisy_intersection_target(seed: int = 0, n: int = 6000) -> da.Target:
    """The model selects group b far more often; ``region`` is noise the model ignores."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b"]), size=n)
    region = rng.choice(np.array(["x", "y", "z"]), size=n)
    x = np.stack([(group == "b") + rng.normal(scale=0.3, size=n), rng.normal(size=n)], axis=1)
    return da.Target(
        Threshold(), kind="classifier", modality="tabular", data=x.astype(np.float32),
        labels=rng.integers(0, 2, n), class_names=["no", "yes"],
        sensitive={"group": group, "region": region}, feature_names=["signal", "noise"],
        device="cpu",
    )  # fmt: skip


def test_the_headline_names_the_marginal_that_carries_the_gap_not_a_noisy_intersection():
    bundle = audit(noisy_intersection_target(), **FAST)
    parity = finding(bundle, "demographic_parity")
    assert parity.severity == "fail"
    assert parity.evidence.group in ("group: a vs b", "group: b vs a")
    # Some intersection's gap is as large or larger (noise adds to it), yet it is not named.
    tests = bundle["fairness"].tables["disparity_tests"]
    inter = [r for r in tests if r["check"] == "demographic_parity" and "&" in r["grouping"]]
    assert inter and max(r["value"] for r in inter) >= parity.evidence.value


def test_equal_groups_are_said_to_be_equal():
    base = {"lowest_group": "agrees", "highest_group": "agrees"}
    assert pair_text({**base, "value": 0.0, "statistic": "accuracy_parity difference"}) == (
        "all groups equal"
    )
    unequal = {"lowest_group": "a", "highest_group": "b"}
    assert pair_text({**unequal, "value": 0.0, "statistic": "x difference"}) == "all groups equal"
    assert pair_text({**unequal, "value": 1.0, "statistic": "x ratio"}) == "all groups equal"
    # A ratio of 0 is the most unequal there is.
    assert pair_text({**unequal, "value": 0.0, "statistic": "x ratio"}) == "a vs b"


def test_live_tests_at_the_audits_threshold_are_the_audits_tests_and_move_with_it():
    from deepaudit.audit.fairness import live_tests

    target = group_target(3, n=1500, group_weight=1.0)
    result = audit(target, sample_seed=5, n_bootstrap=200)["fairness"]
    options = {"n_bootstrap": 200}
    live = live_tests(result, "group", result.metrics.get("threshold"), options, sample_seed=5)
    audited = [r for r in result.tables["disparity_tests"] if r["grouping"] == "group"]
    assert [r["check"] for r in live] == [r["check"] for r in audited]
    for mine, theirs in zip(live, audited, strict=True):  # the same resamples, exactly
        for key in ("value", "low", "high", "severity"):
            assert mine[key] == theirs[key], (mine["check"], key)
    moved = live_tests(result, "group", 0.9, options, sample_seed=5)
    assert [r["value"] for r in moved] != [r["value"] for r in live]
    assert all(r["low"] <= r["value"] <= r["high"] for r in moved if r["value"] == r["value"])
