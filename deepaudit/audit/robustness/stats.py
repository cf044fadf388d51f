"""Intervals and group breakdowns of robustness numbers.

Proportions (accuracies, success rates) get Wilson score intervals from scipy. Medians
and gaps between groups get percentile bootstrap intervals, computed here in a few
vectorised numpy lines: the flipping ε of an unbroken sample is infinite, which
interpolating bootstraps (scipy's among them) turn into NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

OVERALL = ("overall", "all")


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaNs when ``n`` is 0)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def proportion(flags: np.ndarray, confidence: float) -> dict[str, float]:
    """Share of true ``flags`` with its Wilson interval, and the count."""
    flags = np.asarray(flags, dtype=bool)
    n = len(flags)
    low, high = wilson(int(flags.sum()), n, confidence)
    value = float(flags.mean()) if n else float("nan")
    return {"n": n, "value": value, "ci_low": low, "ci_high": high}


def _quantile(values: np.ndarray, q, axis=None):
    return np.quantile(values, q, axis=axis, method="inverted_cdf")


def median(values: np.ndarray) -> float:
    """The lower median (an order statistic, so an infinite value never becomes NaN)."""
    values = np.asarray(values, dtype=float)
    return float(_quantile(values, 0.5)) if len(values) else float("nan")


def bootstrap_median(
    values: np.ndarray, rng: np.random.Generator, n_bootstrap: int, confidence: float
) -> tuple[float, float]:
    """Percentile bootstrap interval of the (lower) median."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0 or n_bootstrap == 0:
        return float("nan"), float("nan")
    draws = values[rng.integers(0, len(values), (n_bootstrap, len(values)))]
    medians = _quantile(draws, 0.5, axis=1)
    alpha = (1 - confidence) / 2
    return float(_quantile(medians, alpha)), float(_quantile(medians, 1 - alpha))


def bootstrap_gap(
    a: np.ndarray,
    b: np.ndarray,
    rng: np.random.Generator,
    n_bootstrap: int,
    confidence: float,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(a) - mean(b)``, each group resampled on its own."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0 or n_bootstrap == 0:
        return float("nan"), float("nan")
    da = a[rng.integers(0, len(a), (n_bootstrap, len(a)))].mean(axis=1)
    db = b[rng.integers(0, len(b), (n_bootstrap, len(b)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    diff = da - db
    return float(np.quantile(diff, alpha)), float(np.quantile(diff, 1 - alpha))


def group_masks(sensitive: pd.DataFrame | None, n: int) -> list[tuple[str, str, np.ndarray]]:
    """``(attribute, group, mask)``: everyone first, then each group of each attribute."""
    masks = [(*OVERALL, np.ones(n, dtype=bool))]
    if sensitive is not None:
        for attribute in sensitive.columns:
            values = sensitive[attribute].astype(str).to_numpy()
            masks += [(str(attribute), g, values == g) for g in sorted(set(values))]
    return masks


def largest_gap(
    values: dict[str, np.ndarray],
    rng: np.random.Generator,
    n_bootstrap: int,
    confidence: float,
    min_size: int,
) -> dict | None:
    """The gap in mean between the best and the worst group with ``min_size`` samples or
    more, with a bootstrap interval; ``None`` when fewer than two groups qualify."""
    eligible = {g: np.asarray(v, dtype=float) for g, v in values.items() if len(v) >= min_size}
    if len(eligible) < 2:
        return None
    means = {g: float(v.mean()) for g, v in eligible.items()}
    ranked = sorted(means, key=means.get)  # stable: ties keep the groups' order
    worst, best = ranked[0], ranked[-1]
    low, high = bootstrap_gap(eligible[best], eligible[worst], rng, n_bootstrap, confidence)
    return {
        "best_group": best,
        "worst_group": worst,
        "best_value": means[best],
        "worst_value": means[worst],
        "best_n": len(eligible[best]),
        "worst_n": len(eligible[worst]),
        "gap": means[best] - means[worst],
        "ci_low": low,
        "ci_high": high,
    }
