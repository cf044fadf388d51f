"""The statistics behind the fairness findings: bootstrap, intervals, tests, corrections.

The bootstrap is the ordinary one (resample the N samples with replacement), done on
the cell table instead of the rows: the counts of a resample over the cells follow a
multinomial law with the cells' shares, so one draw of B×K counts replaces B passes
over N rows. Within a cell the sum of the resampled scores is drawn from its exact
mean and variance given the count (a normal approximation of a sum of scores that,
within a cell, lie in one narrow score bin).

Disparities get their intervals from :mod:`.simultaneous`; a test is read by the one
rule of :func:`deepaudit.grading.verdict`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deepaudit.audit.fairness.config import BOOTSTRAPS, CORRECTIONS  # noqa: F401  (re-exported)


def resample_cells(cells: Any, n_boot: int, rng: np.random.Generator) -> Any:
    """B bootstrap resamples of a cell table (:class:`~.metrics.Cells`), shape
    (B, C, G, 2, 2, n_bins).

    Each class's cells partition the same N samples; they are resampled one class at a
    time (intervals are per class, so the classes need not share a resample).
    """
    n = cells.n
    return _resample(cells, n_boot, rng, lambda counts: rng.multinomial(n, counts / n, size=n_boot))


def poisson_resample_cells(cells: Any, n_boot: int, rng: np.random.Generator) -> Any:
    """B Poisson-bootstrap resamples of a cell table, shape (B, C, G, 2, 2, n_bins).

    The Poisson bootstrap gives every sample an independent Poisson(1) weight instead of
    drawing N samples with replacement, so it needs one pass and no knowledge of N: it
    is the bootstrap of data that streams (Hanley & MacGibbon, 2006; Chamandy et al.,
    2012). A cell's resampled count is the sum of its samples' weights, and a sum of
    ``n`` independent Poisson(1) weights is Poisson(``n``): drawing that per cell is the
    per-sample scheme exactly, at a cost that does not grow with rows, and the same
    however the rows were split into batches or workers.
    """
    return _resample(
        cells, n_boot, rng, lambda counts: rng.poisson(counts, size=(n_boot, len(counts)))
    )


def _resample(cells: Any, n_boot: int, rng: np.random.Generator, draw) -> Any:
    """Resampled cell tables, one class at a time: counts from ``draw(counts)`` (B×K);
    within a cell, the sum of the resampled scores from its exact mean and variance
    given the count (a normal approximation)."""
    out_counts = np.empty((n_boot, *cells.counts.shape))
    out_sums = np.empty_like(out_counts)
    for c in range(cells.counts.shape[0]):
        counts = cells.counts[c].ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, cells.sums[c].ravel() / counts, 0.0)
            var = np.where(counts > 0, cells.squares[c].ravel() / counts - mean**2, 0.0)
        var = np.clip(var, 0.0, None)
        drawn = np.asarray(draw(counts), dtype=np.float64)
        noise = rng.standard_normal(drawn.shape) * np.sqrt(drawn * var)
        out_counts[:, c] = drawn.reshape(n_boot, *cells.counts.shape[1:])
        out_sums[:, c] = (drawn * mean + noise).reshape(n_boot, *cells.counts.shape[1:])
    return type(cells)(counts=out_counts, sums=out_sums, squares=np.zeros(0))


def resample_means(
    values: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int = 1 << 22
) -> np.ndarray:
    """Bootstrap means of the columns of ``values`` (N, K) over the rows: (B, K).

    Multinomial weights over the N rows, applied in chunks so memory stays bounded.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n = len(values)
    out = np.empty((n_boot, values.shape[1]))
    step = max(1, chunk // max(n, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=stop - start)
        out[start:stop] = weights @ values / n
    return out


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of bootstrap samples along axis 0, NaN samples ignored.

    Linear interpolation between order statistics (numpy's default quantile method),
    vectorised over the other axes; NaN where no sample is defined.
    """
    samples = np.asarray(samples, dtype=np.float64)
    ordered = np.sort(samples, axis=0)  # NaN sort last
    n_valid = np.sum(~np.isnan(samples), axis=0)
    alpha = 1.0 - confidence
    bounds = []
    for q in (alpha / 2, 1 - alpha / 2):
        position = q * np.maximum(n_valid - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(n_valid - 1, 0))
        frac = position - below
        lo = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
        hi = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
        with np.errstate(invalid="ignore"):
            value = lo + frac * (hi - lo)
        bounds.append(np.where(n_valid > 0, value, np.nan))
    return bounds[0], bounds[1]


def bootstrap_se(samples: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(samples, axis=0, ddof=1)


def absolute_interval(low: float, high: float) -> tuple[float, float]:
    """The interval of |x| given the interval [low, high] of x."""
    if low <= 0 <= high:
        return 0.0, max(-low, high)
    return min(abs(low), abs(high)), max(abs(low), abs(high))
