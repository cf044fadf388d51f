"""Intervals and gaps with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepaudit.audit.robustness.stats import (
    bootstrap_gap,
    bootstrap_median,
    group_masks,
    largest_gap,
    median,
    proportion,
    wilson,
)


def test_wilson_matches_its_formula():
    k, n, z = 7, 20, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson(k, n, 0.95) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert all(math.isnan(v) for v in wilson(0, 0, 0.95))
    assert proportion(np.array([True, False, True, True]), 0.95)["value"] == 0.75


def test_medians_of_flipping_epsilons_handle_unbroken_samples():
    values = np.array([0.1, 0.2, np.inf, np.inf, np.inf])
    assert median(values) == np.inf
    assert median(np.array([0.1, 0.2, 0.3, np.inf])) == 0.2  # the lower median
    low, high = bootstrap_median(values, np.random.default_rng(0), 200, 0.95)
    assert low <= high and not math.isnan(low) and not math.isnan(high)


def test_bootstrap_gap_brackets_the_true_gap():
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.8
    b = rng.random(400) < 0.5
    low, high = bootstrap_gap(a, b, rng, 1000, 0.95)
    assert low < a.mean() - b.mean() < high
    assert 0.08 < high - low < 0.16  # about 2 × 1.96 × sqrt(0.8·0.2/400 + 0.5·0.5/400)


def test_largest_gap_ignores_small_groups_and_names_the_extremes():
    rng = np.random.default_rng(0)
    values = {"a": np.ones(30), "b": np.zeros(30), "tiny": np.ones(3) * 0.5, "c": np.full(30, 0.5)}
    gap = largest_gap(values, rng, 100, 0.95, min_size=10)
    assert (gap["best_group"], gap["worst_group"], gap["gap"]) == ("a", "b", 1.0)
    assert largest_gap({"a": np.ones(30)}, rng, 100, 0.95, 10) is None
    tie = largest_gap({"a": np.zeros(30), "b": np.zeros(20)}, rng, 100, 0.95, 10)
    assert (tie["worst_group"], tie["best_group"], tie["gap"]) == ("a", "b", 0.0)


def test_group_masks_start_with_everyone():
    import pandas as pd

    masks = group_masks(pd.DataFrame({"s": ["x", "y", "x"]}), 3)
    assert [(a, g, m.tolist()) for a, g, m in masks] == [
        ("overall", "all", [True, True, True]),
        ("s", "x", [True, False, True]),
        ("s", "y", [False, True, False]),
    ]
