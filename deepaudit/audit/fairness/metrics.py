"""Group metrics and disparities: one pure core from (labels, scores, groups, threshold).

Every group metric is a ratio of sums over the cells of a small table: the count of
samples and the sum of their scores per (group, label, decision, score bin). The audit,
its bootstrap and the dashboard's threshold slider all go through :func:`rates_from_cells`,
so they can never disagree; the bootstrap resamples the cell counts instead of the rows,
which is what makes 1,000 resamples of a million rows take about a second.

Multiclass scores (N×C probabilities) are read one-vs-rest: for class ``k`` the label is
``y == k``, the decision is ``argmax == k`` (or ``proba[:, k] > threshold`` when a
threshold is given) and the score is ``proba[:, k]``.

This module does not import torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from deepaudit._validation import NONE, Interval, OneOf, check_param
from deepaudit.audit.fairness.inputs import (
    OVERALL,
    OWNER,
    encode_groups,
    validate_labels_scores,
    warn_tiny_groups,
)
from deepaudit.audit.fairness.registry import (
    BUILTIN_MEASURES,
    BUILTIN_METRICS,
    list_metrics,
    measures,
    user_rates,
)
from deepaudit.audit.fairness.stats import (
    BOOTSTRAPS,
    percentile_interval,
    poisson_resample_cells,
    resample_cells,
)
from deepaudit.errors import parameter_error

#: The built-in group metrics and disparity measures (:mod:`.registry` adds the user's:
#: read the full lists with ``list_metrics()`` and ``measures()``).
METRICS = BUILTIN_METRICS
MEASURES = BUILTIN_MEASURES

#: The extra slice of a multiclass model: is the predicted class right? Only these
#: metrics mean something there (top-label accuracy and calibration error).
TOP_LABEL = "(top label)"
TOP_LABEL_METRICS = ("accuracy", "calibration_error", "mean_score", "count")

# -- the cell table -------------------------------------------------------------------


def score_bins(scores: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bins of [0, 1]: bin b holds (b/n, (b+1)/n]; a score of 0 joins bin 0."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, scores, side="left") - 1, 0, n_bins - 1)


@dataclass
class Cells:
    """Per (class, group, label, decision, score bin): count, sum and sum of squares of
    the scores. Arrays have shape (C, G, 2, 2, n_bins); C is 1 for a binary model."""

    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts[0].sum())

    def __add__(self, other: Cells) -> Cells:
        """The cells of two disjoint sets of samples together (batches fold this way)."""
        return Cells(
            self.counts + other.counts, self.sums + other.sums, self.squares + other.squares
        )


def decisions(scores: np.ndarray, threshold: float | None) -> np.ndarray:
    """The decision for each sample: ``score > threshold`` (binary; ``None`` is 0.5, the
    model's own argmax), argmax (multiclass, ``None``) or one-vs-rest ``proba > threshold``."""
    if scores.ndim == 1:
        return (scores > (0.5 if threshold is None else threshold)).astype(np.int64)
    if threshold is None:
        return scores.argmax(axis=1)
    return (scores > threshold).astype(np.int64)  # N×C one-vs-rest decisions


def build_cells(
    y: np.ndarray, scores: np.ndarray, codes: np.ndarray, n_groups: int, threshold, n_bins: int
) -> Cells:
    """Aggregate samples into the cell table: binary, or one-vs-rest per class plus the
    top-label slice (label: the predicted class is right; score: its probability)."""
    pred = decisions(scores, threshold)
    if scores.ndim == 1:
        columns = [(y, pred, scores)]
    else:
        columns = []
        for k in range(scores.shape[1]):
            pred_k = pred[:, k] if pred.ndim == 2 else (pred == k).astype(np.int64)
            columns.append(((y == k).astype(np.int64), pred_k, scores[:, k]))
        top = scores.argmax(axis=1)
        columns.append(
            ((top == y).astype(np.int64), np.ones_like(y), scores[np.arange(len(y)), top])
        )
    size = n_groups * 4 * n_bins
    shape = (n_groups, 2, 2, n_bins)
    counts, sums, squares = [], [], []
    for y_k, p_k, s_k in columns:
        flat = ((codes * 2 + y_k) * 2 + p_k) * n_bins + score_bins(s_k, n_bins)
        counts.append(np.bincount(flat, minlength=size).reshape(shape))
        sums.append(np.bincount(flat, weights=s_k, minlength=size).reshape(shape))
        squares.append(np.bincount(flat, weights=s_k * s_k, minlength=size).reshape(shape))
    return Cells(
        counts=np.stack(counts).astype(np.float64), sums=np.stack(sums), squares=np.stack(squares)
    )


def rates_from_cells(counts: np.ndarray, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Every group metric from cell counts and score sums of shape (..., 2, 2, n_bins).

    Returns arrays of the leading shape; NaN where a rate is undefined (no samples, no
    positives, no negatives or no predicted positives).
    """
    n = counts.sum(axis=(-3, -2, -1))
    tn = counts[..., 0, 0, :].sum(-1)
    fp = counts[..., 0, 1, :].sum(-1)
    fn = counts[..., 1, 0, :].sum(-1)
    tp = counts[..., 1, 1, :].sum(-1)
    positives_per_bin = counts[..., 1, :, :].sum(-2)
    scores_per_bin = sums.sum(axis=(-3, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return user_rates(tp, fp, fn, tn) | {
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (tp + fn),
            "precision": tp / (tp + fp),
            "base_rate": (tp + fn) / n,
            "calibration_error": np.abs(positives_per_bin - scores_per_bin).sum(-1) / n,
            "mean_score": sums.sum(axis=(-3, -2, -1)) / n,
            "count": n,
        }


#: Metrics that are shares of a count (their intervals are Wilson's, from the counts).
PROPORTIONS = ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision", "base_rate")


def rate_denominators(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The count each metric is a share of, from cell counts (..., 2, 2, n_bins): all
    samples, the positives, the negatives or the predicted positives. Metrics that are
    not shares (calibration error, mean score, registered metrics) read all samples."""
    n = counts.sum(axis=(-3, -2, -1))
    tn = counts[..., 0, 0, :].sum(-1)
    fp = counts[..., 0, 1, :].sum(-1)
    fn = counts[..., 1, 0, :].sum(-1)
    tp = counts[..., 1, 1, :].sum(-1)
    shares = {
        "selection_rate": n,
        "accuracy": n,
        "tpr": tp + fn,
        "fpr": fp + tn,
        "fnr": tp + fn,
        "precision": tp + fp,
        "base_rate": n,
    }
    return {m: shares.get(m, n) for m in list_metrics()}


def blank_top_label(rates: dict[str, np.ndarray], class_axis: int) -> dict[str, np.ndarray]:
    """Set to NaN the metrics that mean nothing on the top-label slice (multiclass only)."""
    if rates["count"].shape[class_axis] <= 1:
        return rates
    for metric in list_metrics():
        if metric not in TOP_LABEL_METRICS:
            index = [slice(None)] * rates[metric].ndim
            index[class_axis] = -1
            rates[metric][tuple(index)] = np.nan
    return rates


def cell_rates(
    cells: Cells, resampled: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Group rates (C, G) and overall rates (C,) of a cell table; with ``resampled``,
    of B resampled tables: (B, C, G) and (B, C)."""
    axis = 1 if resampled else 0
    return (
        blank_top_label(rates_from_cells(cells.counts, cells.sums), axis),
        blank_top_label(
            rates_from_cells(cells.counts.sum(axis=axis + 1), cells.sums.sum(axis=axis + 1)), axis
        ),
    )


# -- disparities ----------------------------------------------------------------------


def _masked_extreme(values: np.ndarray, valid: np.ndarray, largest: bool) -> np.ndarray:
    fill = -np.inf if largest else np.inf
    picked = np.where(valid, values, fill)
    out = picked.max(axis=-1) if largest else picked.min(axis=-1)
    return np.where(np.isfinite(out), out, np.nan)


def disparity_arrays(
    rates: dict[str, np.ndarray], overall: dict[str, np.ndarray], eligible: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Differences and ratios of each measure, between groups and against the overall value.

    ``rates`` hold arrays (..., G); ``overall`` (...); ``eligible`` (G,) or (..., G)
    marks the groups that take part. A group whose rate is undefined is left out.
    Between groups: difference ``max - min``, ratio ``min / max``. Against the overall
    value: the largest ``|group - overall|`` and the smallest ``min(g/o, o/g)``. A
    measure of two rates (equalized odds) takes the larger difference and the smaller
    ratio, as fairlearn does.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for measure, metrics in measures().items():
        if not all(m in rates for m in metrics):
            continue
        parts = []
        for metric in metrics:
            values = rates[metric]
            valid = eligible & np.isfinite(values)
            hi = _masked_extreme(values, valid, largest=True)
            lo = _masked_extreme(values, valid, largest=False)
            enough = valid.sum(axis=-1) >= 2
            o = overall[metric][..., None]
            with np.errstate(invalid="ignore", divide="ignore"):
                to_overall_ratio = np.minimum(values / o, o / values)
                to_overall_ratio = np.where(np.isnan(to_overall_ratio), 1.0, to_overall_ratio)
                parts.append(
                    {
                        "difference": np.where(enough, hi - lo, np.nan),
                        "ratio": np.where(enough, np.where(hi > 0, lo / hi, 1.0), np.nan),
                        "difference_to_overall": np.where(
                            enough, _masked_extreme(np.abs(values - o), valid, True), np.nan
                        ),
                        "ratio_to_overall": np.where(
                            enough, _masked_extreme(to_overall_ratio, valid, False), np.nan
                        ),
                    }
                )
        out[measure] = {
            "difference": _combine(parts, "difference", np.fmax),
            "ratio": _combine(parts, "ratio", np.fmin),
            "difference_to_overall": _combine(parts, "difference_to_overall", np.fmax),
            "ratio_to_overall": _combine(parts, "ratio_to_overall", np.fmin),
        }
    return out


def _combine(parts: list[dict], key: str, how) -> np.ndarray:
    value = parts[0][key]
    for part in parts[1:]:
        both = np.isfinite(value) & np.isfinite(part[key])
        value = np.where(both, how(value, part[key]), np.nan)
    return value


# -- the public functions -------------------------------------------------------------


@dataclass
class GroupAnalysis:
    """Everything one grouping's metrics come from: the cells, group names and rates."""

    names: list[str]
    class_names: list[str]
    cells: Cells
    rates: dict[str, np.ndarray]  # (C, G)
    overall: dict[str, np.ndarray]  # (C,)
    threshold: float | None
    n_bins: int


def analyse_groups(
    y_true: Any,
    y_score: Any,
    groups: Any,
    *,
    threshold: float | None = 0.5,
    n_bins: int = 10,
    class_names: Sequence[str] | None = None,
    owner: str = OWNER,
) -> GroupAnalysis:
    """Validate the inputs, build the cell table and compute every group's rates."""
    check_param(owner, "threshold", threshold, [NONE, Interval(float, 0, 1)])
    check_param(owner, "n_bins", n_bins, [Interval(int, 1, 1000)])
    y, s = validate_labels_scores(y_true, y_score, owner)
    codes, names = encode_groups(groups, len(y), owner)
    cells = build_cells(y, s, codes, len(names), threshold, n_bins)
    warn_tiny_groups(cells.counts[0].sum(axis=(1, 2, 3)), names)
    rates, overall = cell_rates(cells)
    n_classes = 2 if s.ndim == 1 else s.shape[1]
    if class_names is None:
        class_names = [str(k) for k in range(n_classes)]
    class_names = [str(c) for c in class_names]
    if len(class_names) != n_classes:
        raise parameter_error(
            "class_names", owner, f"{n_classes} names, one per class", list(class_names)
        )
    shown = [class_names[1]] if s.ndim == 1 else [*class_names, TOP_LABEL]
    return GroupAnalysis(names, shown, cells, rates, overall, threshold, n_bins)


def group_metrics_frame(
    analysis: GroupAnalysis,
    rates: dict[str, np.ndarray] | None = None,
    overall: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per (class, group), the overall row first within each class."""
    rates = analysis.rates if rates is None else rates
    overall = analysis.overall if overall is None else overall
    rows = []
    names = list_metrics()
    for c, class_name in enumerate(analysis.class_names):
        for g, group in [(None, OVERALL), *enumerate(analysis.names)]:
            source = overall if g is None else rates
            row: dict[str, Any] = {"class": class_name, "group": group}
            row["count"] = int(source["count"][c] if g is None else source["count"][c, g])
            for metric in names:
                value = source[metric][c] if g is None else source[metric][c, g]
                row[metric] = float(value)
            rows.append(row)
    return pd.DataFrame(rows, columns=["class", "group", "count", *names])


def add_intervals(
    frame: pd.DataFrame,
    rates: dict[str, np.ndarray],
    overall: dict[str, np.ndarray],
    confidence: float,
    analysis: GroupAnalysis | None = None,
) -> pd.DataFrame:
    """Add ``<metric>_low`` and ``<metric>_high`` columns, in the row order of
    :func:`group_metrics_frame`: Wilson intervals for the rates that are shares of a
    count (from ``analysis``'s cells: a rate of exactly 0 or 1 keeps a width), percentile
    intervals of the bootstrap rates (B, C, G) and (B, C) for the others."""
    shares = {}
    if analysis is not None:
        counts = analysis.cells.counts
        denominators = rate_denominators(counts)
        overall_denominators = rate_denominators(counts.sum(axis=1))
        shares = {m: (denominators[m], overall_denominators[m]) for m in PROPORTIONS}
    for metric in list_metrics():
        if metric in shares:
            n, n_o = shares[metric]
            low, high = wilson_interval(analysis.rates[metric], n, confidence)
            o_low, o_high = wilson_interval(analysis.overall[metric], n_o, confidence)
        else:
            low, high = percentile_interval(rates[metric], confidence)
            o_low, o_high = percentile_interval(overall[metric], confidence)
        frame[f"{metric}_low"] = _by_row(o_low, low)
        frame[f"{metric}_high"] = _by_row(o_high, high)
    return frame


def wilson_interval(
    rate: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of shares ``rate`` of ``n`` (any shape; NaN where n = 0 or
    the rate is undefined)."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = np.asarray(rate, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    ok = (n > 0) & np.isfinite(p)
    low = np.where(ok, np.where(p <= 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
    high = np.where(ok, np.where(p >= 1, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return low, high


def _by_row(overall: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(C,) overall and (C, G) group values in the table's row order."""
    return np.concatenate([np.concatenate([[o], g]) for o, g in zip(overall, groups, strict=True)])


def bootstrap_rates(
    analysis: GroupAnalysis, n_boot: int, rng: np.random.Generator, method: str = "multinomial"
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Group (B, C, G) and overall (B, C) rates of ``n_boot`` bootstrap resamples
    (``method``: the ordinary ``"multinomial"`` bootstrap or the one-pass ``"poisson"``)."""
    resample = poisson_resample_cells if method == "poisson" else resample_cells
    return cell_rates(resample(analysis.cells, n_boot, rng), resampled=True)


def group_metrics(
    y_true: Any,
    y_score: Any,
    groups: Any,
    *,
    threshold: float | None = 0.5,
    n_bins: int = 10,
    class_names: Sequence[str] | None = None,
    n_boot: int = 0,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    bootstrap: str = "multinomial",
) -> pd.DataFrame:
    """Fairness metrics of each group: the one function the audit and the dashboard use.

    Parameters
    ----------
    y_true
        True class of each sample (0/1 for a binary model).
    y_score
        P(class 1) per sample, or an N×C array of class probabilities (multiclass:
        one-vs-rest per class).
    groups
        The group of each sample, or a DataFrame of attributes whose combinations are
        the (intersectional) groups, labelled ``"a & b"``.
    threshold
        A sample is selected when its score exceeds it. ``None``: the model's own
        decision (0.5 for binary, argmax for multiclass); a float with multiclass
        scores decides one-vs-rest per class.
    n_bins
        Equal-width score bins of the calibration error.
    class_names
        The name of each class (binary: the row names the positive class).
    n_boot, confidence, random_state
        With ``n_boot > 0``: percentile bootstrap intervals at ``confidence`` in
        ``<metric>_low`` / ``<metric>_high`` columns (samples resampled with replacement;
        done on the cell table, so 1,000 resamples of a million rows take about a second).
    bootstrap
        ``"multinomial"``: the ordinary bootstrap (N rows drawn with replacement);
        ``"poisson"``: each row weighed by an independent Poisson(1) draw, the one-pass
        bootstrap of streamed data (the two agree within Monte-Carlo error).

    Returns
    -------
    pandas.DataFrame
        One row per (class, group), the ``"overall"`` row first: count, selection rate,
        accuracy, TPR, FPR, FNR, precision, base rate (share of true positives),
        calibration error (sum over score bins of |positives - summed scores| / count)
        and mean score. Undefined rates (e.g. TPR of a group without positives) are NaN.
        Multiclass models get one more class, ``"(top label)"``: the accuracy, top-label
        calibration error and mean confidence of the predicted class.
    """
    check_param(OWNER, "n_boot", n_boot, [Interval(int, 0, None)])
    check_param(OWNER, "confidence", confidence, [Interval(float, 0, 1, closed="neither")])
    check_param(OWNER, "bootstrap", bootstrap, [OneOf(BOOTSTRAPS)])
    analysis = analyse_groups(
        y_true, y_score, groups, threshold=threshold, n_bins=n_bins, class_names=class_names
    )
    frame = group_metrics_frame(analysis)
    if n_boot > 0:
        rates, overall = bootstrap_rates(
            analysis, n_boot, np.random.default_rng(random_state), bootstrap
        )
        add_intervals(frame, rates, overall, confidence, analysis)
    return frame


def disparities(metrics: pd.DataFrame, *, min_count: int = 1) -> pd.DataFrame:
    """Differences and ratios between groups, and against the overall value.

    Parameters
    ----------
    metrics
        A table from :func:`group_metrics`.
    min_count
        Groups with fewer samples take no part (their rates are noise).

    Returns
    -------
    pandas.DataFrame
        One row per (class, measure) with the difference (max - min) and ratio (min / max)
        between groups, the largest difference and smallest ratio against the overall
        value, and the groups with the lowest and highest rate. Measures: demographic
        parity (selection rate; its ratio is the four-fifths rule), equal opportunity
        (TPR), equalized odds (TPR and FPR), predictive parity (precision), accuracy and
        calibration parity.
    """
    required = {"class", "group", "count", *BUILTIN_METRICS}
    if not isinstance(metrics, pd.DataFrame) or not required <= set(metrics.columns):
        raise parameter_error(
            "metrics", "disparities", "a table from group_metrics", type(metrics).__name__
        )
    check_param("disparities", "min_count", min_count, [Interval(int, 1, None)])
    rows = []
    for class_name, part in metrics.groupby("class", sort=False):
        overall_row = part[part["group"] == OVERALL]
        groups = part[part["group"] != OVERALL]
        present = [m for m in list_metrics() if m in metrics.columns]
        rates = {m: groups[m].to_numpy(dtype=np.float64) for m in present}
        overall = {m: np.asarray(overall_row[m].to_numpy(dtype=np.float64)[0]) for m in present}
        eligible = groups["count"].to_numpy() >= min_count
        values = disparity_arrays(rates, overall, eligible)
        names = groups["group"].to_numpy()
        for measure, stats in values.items():
            lowest, highest = extreme_groups(rates[measures()[measure][0]], eligible, names)
            rows.append(
                {
                    "class": class_name,
                    "measure": measure,
                    **{k: float(v) for k, v in stats.items()},
                    "lowest_group": lowest,
                    "highest_group": highest,
                    "n_groups": int(eligible.sum()),
                }
            )
    return pd.DataFrame(rows)


ANOMALY_METRICS = ("flag_rate", "mean_error")


def anomaly_rates(
    count: np.ndarray, flagged: np.ndarray, error_sum: np.ndarray
) -> dict[str, np.ndarray]:
    """Flag rate and mean error from per-group sums (any leading shape)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"flag_rate": flagged / count, "mean_error": error_sum / count, "count": count}


def anomaly_sums(errors: np.ndarray, codes: np.ndarray, n_groups: int, threshold: float):
    """Per-group count, flagged count and error sum: the cells of an anomaly detector."""
    flagged = (errors > threshold).astype(np.float64)
    return (
        np.bincount(codes, minlength=n_groups).astype(np.float64),
        np.bincount(codes, weights=flagged, minlength=n_groups),
        np.bincount(codes, weights=errors, minlength=n_groups),
    )


def anomaly_group_metrics(errors: Any, groups: Any, *, threshold: float) -> pd.DataFrame:
    """Anomaly-flag rate and mean reconstruction error of each group (overall first).

    The autoencoder counterpart of :func:`group_metrics`: a sample is flagged when its
    error exceeds ``threshold``; the dashboard's threshold slider calls this function.
    """
    owner = "anomaly_group_metrics"
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1 or len(e) == 0 or not np.all(np.isfinite(e)):
        raise parameter_error("errors", owner, "a 1-d array of finite reconstruction errors", e)
    check_param(owner, "threshold", threshold, [Interval(float, None, None)])
    codes, names = encode_groups(groups, len(e), owner)
    count, flagged, error_sum = anomaly_sums(e, codes, len(names), threshold)
    warn_tiny_groups(count, names)
    rates = anomaly_rates(count, flagged, error_sum)
    overall = anomaly_rates(count.sum(), flagged.sum(), error_sum.sum())
    rows = [{"group": OVERALL, **{k: float(v) for k, v in overall.items()}}]
    for g, name in enumerate(names):
        rows.append({"group": name, **{k: float(v[g]) for k, v in rates.items()}})
    frame = pd.DataFrame(rows, columns=["group", "count", *ANOMALY_METRICS])
    frame["count"] = frame["count"].astype(np.int64)
    return frame


def extreme_groups(
    values: np.ndarray, eligible: np.ndarray, names: Sequence[str]
) -> tuple[str | None, str | None]:
    """Names of the eligible groups with the lowest and highest (defined) value."""
    valid = eligible & np.isfinite(values)
    if not valid.any():
        return None, None
    idx = np.flatnonzero(valid)
    return str(names[idx[np.argmin(values[idx])]]), str(names[idx[np.argmax(values[idx])]])
