"""Intervals for the gap between groups that cover the true gap, zero included.

A disparity is an extreme over contrasts between groups: the difference ``max - min``
is the largest ``|r_i - r_j|`` over pairs of groups, the ratio ``min / max`` the smallest
``r_i / r_j``, and their ``_to_overall`` versions the same against the overall rate. A
percentile bootstrap of the extreme itself never covers 0 (``max - min`` is never
negative), so an interval that excludes 0 says nothing. Instead (max-T, as in
Hothorn, Bretz & Westfall 2008, with the bootstrap in place of the normal law):

1. every signed contrast ``d_k`` gets a bootstrap standard error ``s_k``, floored at its
   binomial value (Agresti–Coull, so a rate of exactly 0 or 1 keeps a width);
2. from the same resamples, ``T_b = max_k |d*_bk - d_k| / s_k`` and its quantile ``c`` at
   the confidence level (never below the normal quantile of one contrast) make
   ``d_k ± c·s_k`` simultaneous intervals for every contrast;
3. when all of them hold, the extreme lies in ``[max_k lo_k, max_k hi_k]`` of the
   absolute contrasts (for a ratio, ``[min_k lo_k, min_k hi_k]``).

So the interval of the gap covers the true gap at least at the nominal level, whatever
it is, 0 included. The multiple comparison is paid once, in ``c``; taking the maximum of
``T`` over every test of a check as well (the ``"simultaneous"`` correction) pays it once
for the check, so that its headline is not the luckiest of many tests.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: Disparity statistics: differences (largest gap) and ratios (smallest ratio).
DIFFERENCES = ("difference", "difference_to_overall")
RATIOS = ("ratio", "ratio_to_overall")


@dataclass
class Contrasts:
    """The signed contrasts behind one disparity statistic: point values (K,), bootstrap
    values (B, K) and standard errors (K,)."""

    statistic: str
    point: np.ndarray
    boot: np.ndarray
    se: np.ndarray

    @property
    def ratio(self) -> bool:
        return self.statistic in RATIOS

    def t_max(self) -> np.ndarray:
        """Per resample, the largest standardised deviation over the contrasts (B,)."""
        if self.point.size == 0:
            return np.full(self.boot.shape[0], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN resamples
            return np.nanmax(np.abs(self.boot - self.point) / self.se, axis=1)

    def interval(self, c: float) -> tuple[float, float]:
        """The statistic's interval when every contrast lies within ``± c`` errors."""
        if self.point.size == 0 or not np.isfinite(c):
            return float("nan"), float("nan")
        lo, hi = self.point - c * self.se, self.point + c * self.se
        if self.ratio:
            return float(max(0.0, lo.min())), float(min(1.0, hi.min()))
        spans_zero = (lo <= 0) & (hi >= 0)
        lo_abs = np.where(spans_zero, 0.0, np.minimum(np.abs(lo), np.abs(hi)))
        hi_abs = np.maximum(np.abs(lo), np.abs(hi))
        # Contrasts of rates: no gap exceeds 1.
        return float(min(1.0, lo_abs.max())), float(min(1.0, hi_abs.max()))


def critical_value(t_max: np.ndarray | list[np.ndarray], confidence: float) -> float:
    """The ``confidence`` quantile of the largest standardised deviation: of one set of
    contrasts, or of the maximum over several (their resamples paired by index)."""
    values = np.asarray(t_max, dtype=np.float64)
    if values.ndim == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            values = np.nanmax(values, axis=0) if len(values) else np.zeros(0)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan")
    # The largest of several deviations is never below one of them: the normal quantile
    # floors a bootstrap quantile that, from 1,000 resamples, wanders by about ±0.1.
    one = NormalDist().inv_cdf(0.5 + confidence / 2)
    return float(max(np.quantile(values, confidence), one))


def _floor_se(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Agresti–Coull variance of a rate ``p`` out of ``n``: never 0, even at 0 or 1."""
    x = np.clip(p, 0.0, 1.0) * n
    p_tilde = (x + 2.0) / (n + 4.0)
    return p_tilde * (1.0 - p_tilde) / (n + 4.0)


def contrasts(
    statistic: str,
    values: list[np.ndarray],
    boot: list[np.ndarray],
    overall: list[float],
    boot_overall: list[np.ndarray],
    denominators: list[np.ndarray],
    overall_denominators: list[float],
    eligible: np.ndarray,
) -> Contrasts:
    """The contrasts of ``statistic`` over the eligible groups, for a measure of one or
    more metrics (each a list entry: group values (G,), resamples (B, G), the overall
    value and resamples (B,), and the count each rate is a share of)."""
    points, draws, floors = [], [], []
    for v, vb, o, ob, n, n_o in zip(
        values, boot, overall, boot_overall, denominators, overall_denominators, strict=True
    ):
        valid = np.flatnonzero(eligible & np.isfinite(v))
        var = _floor_se(v, n)
        var_o = float(_floor_se(np.asarray(o), np.asarray(n_o)))
        if statistic == "difference":
            i, j = np.triu_indices(len(valid), k=1)
            a, b = valid[i], valid[j]
            points.append(v[a] - v[b])
            draws.append(vb[:, a] - vb[:, b])
            floors.append(var[a] + var[b])
        elif statistic == "difference_to_overall":
            if len(valid) >= 2:
                points.append(v[valid] - o)
                draws.append(vb[:, valid] - ob[:, None])
                floors.append(var[valid] + var_o)
        elif statistic == "ratio":
            a, b = np.meshgrid(valid, valid, indexing="ij")
            keep = (a != b) & (v[b] > 0)
            a, b = a[keep], b[keep]
            with np.errstate(invalid="ignore", divide="ignore"):
                q = v[a] / v[b]
                points.append(q)
                draws.append(vb[:, a] / vb[:, b])
                floors.append(
                    q**2 * (var[a] / _safe_sq(v[a], n[a]) + var[b] / _safe_sq(v[b], n[b]))
                )
        elif statistic == "ratio_to_overall":
            if len(valid) >= 2 and o > 0:
                with np.errstate(invalid="ignore", divide="ignore"):
                    up = v[valid] / o
                    positive = v[valid] > 0
                    down = np.where(positive, o / v[valid], np.nan)
                    rel = var[valid] / _safe_sq(v[valid], n[valid]) + var_o / o**2
                    points += [up, down[positive]]
                    draws += [vb[:, valid] / ob[:, None], (ob[:, None] / vb[:, valid])[:, positive]]
                    floors += [up**2 * rel, (down**2 * rel)[positive]]
        else:  # pragma: no cover - the statistics are fixed
            raise ValueError(statistic)
    point = np.concatenate(points) if points else np.zeros(0)
    boot_all = np.concatenate(draws, axis=1) if draws else np.zeros((len(boot[0]), 0))
    floor = np.concatenate(floors) if floors else np.zeros(0)
    boot_all = np.where(np.isfinite(boot_all), boot_all, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(boot_all, axis=0, ddof=1) if boot_all.shape[0] > 1 else np.zeros(len(point))
    se = np.sqrt(np.maximum(np.nan_to_num(se, nan=0.0) ** 2, floor))
    return Contrasts(statistic, point, boot_all, se)


def _safe_sq(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``p²``, kept away from 0 by half a count (a ratio's relative error at ``p = 0``)."""
    return np.maximum(p, 0.5 / np.maximum(n, 1.0)) ** 2


def with_test_intervals(
    rows: list[dict], found: list[Contrasts | None], correction: str, confidence: float
) -> list[dict]:
    """Copies of the test ``rows`` with ``low``/``high``: simultaneous over the tests of
    each check (``correction="simultaneous"``: one critical value from the largest
    deviation over all their contrasts) or for each test alone (``"none"``)."""
    rows = [dict(r) for r in rows]
    checks = [r["check"] for r in rows]
    critical: dict[str, float] = {}
    if correction == "simultaneous":
        for check in dict.fromkeys(checks):
            mine = [f.t_max() for f, c in zip(found, checks, strict=True) if c == check and f]
            critical[check] = critical_value(np.stack(mine), confidence) if mine else np.nan
    for row, contrast in zip(rows, found, strict=True):
        if contrast is None or not np.isfinite(row["value"]):
            continue
        c = (
            critical[row["check"]]
            if correction == "simultaneous"
            else critical_value(contrast.t_max(), confidence)
        )
        row["low"], row["high"] = contrast.interval(c)
    return rows
