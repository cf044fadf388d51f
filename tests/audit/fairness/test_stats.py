"""The statistics: bootstrap on the cell table, intervals, corrections, decisions, coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from deepaudit.audit.fairness.metrics import build_cells, cell_rates, disparity_arrays
from deepaudit.audit.fairness.stats import (
    absolute_interval,
    adjust_p_values,
    decide,
    excess_p_value,
    percentile_interval,
    resample_cells,
    resample_means,
)


def test_resampled_counts_keep_the_sample_size_and_are_unbiased(rng):
    n = 2000
    y = rng.integers(0, 2, n)
    s = rng.random(n)
    codes = rng.integers(0, 3, n)
    cells = build_cells(y, s, codes, 3, 0.5, 10)
    boot = resample_cells(cells, 400, rng)
    assert boot.counts.shape == (400, *cells.counts.shape)
    np.testing.assert_array_equal(boot.counts.sum(axis=(1, 2, 3, 4, 5)), n)
    np.testing.assert_allclose(boot.counts.mean(axis=0), cells.counts, atol=3.0)
    # The score sums follow the counts: their mean is the observed sum.
    np.testing.assert_allclose(
        boot.sums.sum(axis=(3, 4, 5)).mean(0), cells.sums.sum((2, 3, 4)), rtol=0.02
    )


def test_bootstrap_standard_error_of_a_rate_matches_the_binomial_formula(rng):
    n = 4000
    y = rng.integers(0, 2, n)
    s = rng.random(n)
    codes = np.zeros(n, dtype=np.int64)
    cells = build_cells(y, s, codes, 1, 0.5, 10)
    boot = resample_cells(cells, 2000, rng)
    rates, _ = cell_rates(boot, resampled=True)
    p = float(np.mean(s > 0.5))
    assert rates["selection_rate"][:, 0, 0].std() == pytest.approx(
        np.sqrt(p * (1 - p) / n), rel=0.08
    )
    # The calibration error's spread comes mostly from the labels; the within-cell score
    # noise is drawn from the exact mean and variance, so the mean score's spread is right.
    assert rates["mean_score"][:, 0, 0].std() == pytest.approx(s.std() / np.sqrt(n), rel=0.08)


def test_resample_means_matches_the_standard_error_of_a_mean(rng):
    x = rng.exponential(size=3000)
    boot = resample_means(x, 1500, rng, chunk=100_000)
    assert boot.shape == (1500, 1)
    assert boot.mean() == pytest.approx(x.mean(), rel=0.01)
    assert boot.std() == pytest.approx(x.std() / np.sqrt(len(x)), rel=0.08)


def test_percentile_interval_equals_numpy_nanquantile(rng):
    samples = rng.normal(size=(301, 4, 3))
    samples[rng.random(samples.shape) < 0.1] = np.nan
    samples[:, 0, 0] = np.nan
    low, high = percentile_interval(samples, 0.9)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(samples, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(low, expected[0], equal_nan=True)
    np.testing.assert_allclose(high, expected[1], equal_nan=True)
    assert np.isnan(low[0, 0])


def test_holm_known_answer_and_bh_equals_scipy():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # Holm: sorted .005 .01 .03 .04 times 4, 3, 2, 1, then running maximum.
    np.testing.assert_allclose(
        adjust_p_values(p, "holm"), [0.03, 0.06, 0.06, 0.02, np.nan], equal_nan=True
    )
    np.testing.assert_allclose(
        adjust_p_values(p, "bh")[:4], sps.false_discovery_control(p[:4], method="bh")
    )
    np.testing.assert_allclose(adjust_p_values(p, "none"), p, equal_nan=True)


@pytest.mark.parametrize(
    ("low", "high", "p_adjusted", "expected"),
    [
        (0.12, 0.2, 0.001, "fail"),  # interval beyond the limit, survives correction
        (0.12, 0.2, 0.2, "inconclusive"),  # beyond, but not after correcting
        (0.05, 0.2, 0.001, "inconclusive"),  # straddles
        (0.01, 0.08, 0.9, "pass"),  # within
        (np.nan, np.nan, np.nan, "inconclusive"),
    ],
)
def test_decide_fails_only_when_the_interval_lies_beyond(low, high, p_adjusted, expected):
    value = 0.15 if np.isfinite(low) else np.nan
    got = decide(
        value, low, high, 0.1, higher_is_worse=True, p_adjusted=p_adjusted, confidence=0.95
    )
    assert got == expected


def test_decide_for_lower_is_worse_ratios():
    kw = {"higher_is_worse": False, "confidence": 0.95}
    assert decide(0.5, 0.4, 0.6, 0.8, p_adjusted=0.0, **kw) == "fail"
    assert decide(0.9, 0.85, 0.95, 0.8, p_adjusted=1.0, **kw) == "pass"
    assert decide(0.8, 0.7, 0.9, 0.8, p_adjusted=0.5, **kw) == "inconclusive"


def test_excess_p_value_is_a_normal_tail():
    assert excess_p_value(0.2, 0.05, 0.1, higher_is_worse=True) == pytest.approx(sps.norm.sf(2))
    assert excess_p_value(0.6, 0.1, 0.8, higher_is_worse=False) == pytest.approx(sps.norm.sf(2))
    assert excess_p_value(0.2, 0.0, 0.1, higher_is_worse=True) == 0.0


def test_absolute_interval():
    assert absolute_interval(-0.3, -0.1) == (0.1, 0.3)
    assert absolute_interval(-0.1, 0.2) == (0.0, 0.2)
    assert absolute_interval(0.1, 0.4) == (0.1, 0.4)


def _coverage(rng, n_reps, n, n_boot, confidence=0.9):
    """Share of intervals covering the true disparities of a known population.

    Two groups (40 / 60 %), P(score > .5) of 0.3 and 0.4 (true demographic parity
    difference 0.1, ratio 0.75); labels independent with base rate 0.5 given the
    decision, so the true TPR gap is known too.
    """
    share_b, rate = 0.6, {0: 0.3, 1: 0.4}
    p_pos = {0: 0.6, 1: 0.3}  # P(y=1 | decision 1), P(y=1 | decision 0) in both groups
    tpr = {g: rate[g] * p_pos[0] / (rate[g] * p_pos[0] + (1 - rate[g]) * p_pos[1]) for g in (0, 1)}
    truth = {
        "dp_difference": 0.1,
        "dp_ratio": 0.75,
        "eop_difference": tpr[1] - tpr[0],
    }
    covered = {k: 0 for k in truth}
    eligible = np.ones(2, dtype=bool)
    for _ in range(n_reps):
        codes = (rng.random(n) < share_b).astype(np.int64)
        decided = rng.random(n) < np.where(codes == 1, rate[1], rate[0])
        s = np.where(decided, 0.75, 0.25)
        y = (rng.random(n) < np.where(decided, p_pos[0], p_pos[1])).astype(np.int64)
        cells = build_cells(y, s, codes, 2, 0.5, 4)
        boot = resample_cells(cells, n_boot, rng)
        b_rates, b_overall = cell_rates(boot, resampled=True)
        gaps = disparity_arrays(b_rates, b_overall, eligible)
        for key, (measure, stat) in {
            "dp_difference": ("demographic_parity", "difference"),
            "dp_ratio": ("demographic_parity", "ratio"),
            "eop_difference": ("equal_opportunity", "difference"),
        }.items():
            low, high = percentile_interval(gaps[measure][stat][:, 0], confidence)
            covered[key] += bool(low <= truth[key] <= high)
    return {k: v / n_reps for k, v in covered.items()}


def test_bootstrap_intervals_cover_the_true_disparity_fast(rng):
    coverage = _coverage(rng, n_reps=150, n=1500, n_boot=200)
    # 90 % intervals; 150 repetitions: a binomial 99 % band is about [0.83, 0.96].
    for key, share in coverage.items():
        assert 0.82 <= share <= 0.97, (key, share)


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_true_disparity_at_the_nominal_rate(rng):
    coverage = _coverage(rng, n_reps=1000, n=2000, n_boot=500, confidence=0.9)
    for key, share in coverage.items():
        assert 0.87 <= share <= 0.93, (key, share)
