"""The statistics: bootstrap on the cell table, intervals, corrections, decisions, coverage."""

from __future__ import annotations

import numpy as np
import pytest

from deepaudit.audit.fairness.metrics import build_cells, cell_rates
from deepaudit.audit.fairness.stats import (
    absolute_interval,
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


def test_absolute_interval():
    assert absolute_interval(-0.3, -0.1) == (0.1, 0.3)
    assert absolute_interval(-0.1, 0.2) == (0.0, 0.2)
    assert absolute_interval(0.1, 0.4) == (0.1, 0.4)
