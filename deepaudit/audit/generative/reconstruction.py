"""Autoencoders: where reconstruction error, and so the anomaly flag, comes from.

An autoencoder's anomaly score is its mean squared reconstruction error. Split per
feature (a tabular feature's one-hot columns together, an image's channels), the
contributions add up exactly to the score, so they say which features the anomalies
come from. The audit compares the error distribution on held-out data with that on the
reference (training) data, tabulates each feature's mean error on both, and keeps the
worst-reconstructed samples with their per-feature errors.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.audit.generative.result import GenerativeResult
from deepaudit.audit.target import Target


def feature_groups(target: Target) -> dict[str, list[int]]:
    """Columns of the flattened input belonging to each feature: a tabular target's
    logical features, else one group per channel."""
    if target.modality == "tabular" and target.feature_groups:
        return {name: list(cols) for name, cols in target.feature_groups.items()}
    shape = tuple(target.data.shape[1:])
    per_channel = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return {
        f"channel {c}": list(range(c * per_channel, (c + 1) * per_channel))
        for c in range(shape[0] if len(shape) > 1 else int(np.prod(shape)))
    }


def feature_contributions(
    x: np.ndarray, reconstruction: np.ndarray, groups: dict[str, list[int]]
) -> np.ndarray:
    """Per sample and feature: squared error summed over the feature's columns, divided by
    the number of columns, so that each row sums to the sample's mean squared error."""
    return _contributions(_squared(x, reconstruction), groups)


def _squared(x: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    flat = np.asarray(x).reshape(len(x), -1).astype(np.float64)
    return (np.asarray(reconstruction).reshape(len(x), -1) - flat) ** 2


def _contributions(squared: np.ndarray, groups: dict[str, list[int]]) -> np.ndarray:
    width = squared.shape[1]
    return np.stack([squared[:, cols].sum(axis=1) / width for cols in groups.values()], axis=1)


def _subset(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= cap else np.sort(rng.choice(n, size=cap, replace=False))


def _errors(
    target: Target, source, ids: np.ndarray, groups: dict[str, list[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature contributions, per-sample errors and per-column mean squared error of
    the rows ``ids`` of ``source``, a batch at a time (memory bounded by the batch size)."""
    contributions, column_sums = [], 0.0
    for start in range(0, len(ids), target.batch_size):
        rows = source[ids[start : start + target.batch_size]].numpy()
        squared = _squared(rows, target.reconstruct(rows))
        contributions.append(_contributions(squared, groups))
        column_sums = column_sums + squared.sum(axis=0)
    parts = np.concatenate(contributions)
    return parts, parts.sum(axis=1), column_sums / len(parts)


def error_histograms(
    heldout: np.ndarray, reference: np.ndarray | None, n_bins: int
) -> dict[str, np.ndarray]:
    """Counts of both error sets on shared edges (geometric when every error is positive,
    since reconstruction errors are heavy-tailed)."""
    both = heldout if reference is None else np.concatenate([heldout, reference])
    lo, hi = float(both.min()), float(both.max())
    if lo > 0 and hi > lo:
        edges = np.geomspace(lo, hi, n_bins + 1)
    else:
        edges = np.histogram_bin_edges(both, bins=n_bins)
    out = {"error_edges": edges, "heldout_counts": np.histogram(heldout, edges)[0]}
    if reference is not None:
        out["reference_counts"] = np.histogram(reference, edges)[0]
    return out


def run_autoencoder(target: Target, options: GenerativeConfig, seed: int) -> GenerativeResult:
    """The generative family on an autoencoder (see the module docstring)."""
    result = GenerativeResult()
    rng = target.sample_rng(4)  # which rows are scored: the data, not the audit's seed
    groups = feature_groups(target)
    names = list(groups)
    held_ids = _subset(target.n_samples, options.n_errors, rng)
    held_c, held_e, held_columns = _errors(target, target.data, held_ids, groups)
    threshold = float(target.anomaly_threshold)
    flagged = held_e > threshold
    ref_c = ref_e = None
    if target.reference_data is not None:
        ref_ids = _subset(len(target.reference_data), options.n_errors, rng)
        ref_c, ref_e, _ = _errors(target, target.reference_data, ref_ids, groups)

    result.metrics.update(
        {
            "n_heldout": len(held_e),
            "heldout_mean_error": float(held_e.mean()),
            "heldout_median_error": float(np.median(held_e)),
            "anomaly_threshold": threshold,
            "heldout_flag_rate": float(flagged.mean()),
            "n_flagged": int(flagged.sum()),
            "n_features": len(names),
        }
    )
    hist = error_histograms(held_e, ref_e, options.n_bins)
    result.arrays.update(hist)
    result.arrays["heldout_errors"] = held_e
    result.arrays["heldout_ids"] = held_ids.astype(np.int64)
    if ref_e is not None:
        ks = stats.ks_2samp(held_e, ref_e)
        result.arrays["reference_errors"] = ref_e
        result.metrics.update(
            {
                "n_reference": len(ref_e),
                "reference_mean_error": float(ref_e.mean()),
                "reference_median_error": float(np.median(ref_e)),
                "reference_flag_rate": float((ref_e > threshold).mean()),
                "error_shift_ks": float(ks.statistic),
                "error_shift_p_value": float(ks.pvalue),
            }
        )
    if target.modality == "image":
        shape = tuple(target.data.shape[1:])  # C×H×W: the map averages the channels
        result.arrays["pixel_error_map"] = held_columns.reshape(shape).mean(axis=0)

    held_mean = held_c.mean(axis=0)
    flagged_total = held_c[flagged].sum(axis=0)
    flagged_share = (
        flagged_total / flagged_total.sum() if flagged.any() else np.full(len(names), np.nan)
    )
    rows = []
    for j, name in enumerate(names):
        row = {
            "feature": name,
            "n_columns": len(groups[name]),
            "heldout_mean_error": float(held_mean[j]),
            "heldout_share": float(held_mean[j] / max(held_mean.sum(), 1e-300)),
            "flagged_share": float(flagged_share[j]),
        }
        if ref_c is not None:
            ref_mean = float(ref_c[:, j].mean())
            row["reference_mean_error"] = ref_mean
            row["error_ratio"] = float(held_mean[j] / ref_mean) if ref_mean > 0 else float("nan")
        rows.append(row)
    result.tables["feature_errors"] = rows

    worst = np.argsort(-held_e, kind="stable")[: options.n_worst]
    result.arrays["worst_ids"] = held_ids[worst].astype(np.int64)
    result.arrays["worst_feature_errors"] = held_c[worst].astype(np.float32)
    worst_rows = []
    for i in worst:
        order = np.argsort(-held_c[i], kind="stable")
        worst_rows.append(
            {
                "sample_id": int(held_ids[i]),
                "error": float(held_e[i]),
                "flagged": bool(flagged[i]),
                **{
                    f"feature_{r + 1}": f"{names[j]} ({held_c[i, j] / held_e[i]:.0%})"
                    for r, j in enumerate(order[:3])
                },
            }
        )
    result.tables["worst_samples"] = worst_rows
    return result
