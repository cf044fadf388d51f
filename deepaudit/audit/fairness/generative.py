"""Fairness of generative models.

GAN: which classes does it generate, and how often, against the data it should
imitate? A reference classifier (``Target(label_model=...)``) labels generated
and reference samples alike, so its own errors fall on both sides; a
chi-square test compares the two class distributions and each class's share ratio
gets a bootstrap interval. Autoencoder: anomaly-flag rate and mean reconstruction error
per group, with intervals: a detector that flags one group far more often than another
treats that group as unusual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from deepaudit.audit.fairness.classifier import disparity_test_row
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.groups import Grouping, LevelGrouping
from deepaudit.audit.fairness.inputs import OVERALL
from deepaudit.audit.fairness.metrics import (
    ANOMALY_METRICS,
    anomaly_rates,
    anomaly_sums,
    extreme_groups,
    wilson_interval,
)
from deepaudit.audit.fairness.simultaneous import Contrasts, contrasts, critical_value
from deepaudit.audit.fairness.stats import (
    bootstrap_se,
    percentile_interval,
    poisson_resample_cells,
    resample_means,
)
from deepaudit.audit.target import Target

# -- GAN class coverage -----------------------------------------------------------------


def class_coverage(
    target: Target, options: FairnessConfig, rng: np.random.Generator, seed: int
) -> dict:
    """Generated class shares (labelled by the target's label model) against the
    reference data's."""
    samples = target.generate(options.n_generated, seed=target.sample_seed)
    generated = target.label_classes(samples)
    reference = target.label_classes(target.reference_data)
    class_names = target.label_class_names or [
        str(k) for k in range(int(max(generated.max(), reference.max())) + 1)
    ]
    k = len(class_names)
    gen_counts = np.bincount(generated, minlength=k)
    ref_counts = np.bincount(reference, minlength=k)
    seen = (gen_counts + ref_counts) > 0
    chi2, p_value, dof, _ = stats.chi2_contingency(np.vstack([gen_counts, ref_counts])[:, seen])
    n_gen, n_ref = len(generated), len(reference)
    gen_share, ref_share = gen_counts / n_gen, ref_counts / n_ref
    true_labels = target.metadata.get("reference_labels")
    true_share = (
        np.bincount(np.asarray(true_labels, dtype=np.int64), minlength=k) / len(true_labels)
        if true_labels is not None and len(true_labels) == n_ref
        else None
    )
    rows = []
    boot = None
    if options.n_bootstrap > 0:
        gen_boot = rng.multinomial(n_gen, gen_share, size=options.n_bootstrap) / n_gen
        ref_boot = rng.multinomial(n_ref, ref_share, size=options.n_bootstrap) / n_ref
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio_boot = np.where(ref_boot > 0, gen_boot / ref_boot, np.nan)
        boot = (gen_boot, ratio_boot)
    for c, class_name in enumerate(class_names):
        ratio = gen_share[c] / ref_share[c] if ref_share[c] > 0 else float("nan")
        row = {
            "class": class_name,
            "generated": int(gen_counts[c]),
            "generated_share": float(gen_share[c]),
            "reference": int(ref_counts[c]),
            "reference_share": float(ref_share[c]),
            "share_ratio": float(ratio),
            "threshold": options.min_share_ratio,
        }
        if true_share is not None:
            row["reference_true_share"] = float(true_share[c])
        if boot is not None:
            share_low, share_high = wilson_interval(gen_share[c], n_gen, options.confidence)
            row.update(generated_share_low=float(share_low), generated_share_high=float(share_high))
        row.update(limit="min_share_ratio", higher_is_worse=False)
        rows.append(row)
    if boot is not None:
        _share_ratio_intervals(rows, boot[1], options)
    return {
        "label_model": target.label_model_name,
        "rows": rows,
        "chi2": float(chi2),
        "chi2_p_value": float(p_value),
        "chi2_dof": int(dof),
        "n_generated": n_gen,
        "n_reference": n_ref,
        "generated_classes": generated.astype(np.int64),
        "samples": samples,
    }


def _share_ratio_intervals(rows: list[dict], draws: np.ndarray, options: FairnessConfig) -> None:
    """Intervals of each class's share ratio (generated over reference share): from the
    same resamples for every class, simultaneous over the classes
    (``correction="simultaneous"``) or each alone."""
    point = np.array([r["share_ratio"] for r in rows])
    valid = np.isfinite(point)
    lows = np.full(len(rows), np.nan)
    highs = np.full(len(rows), np.nan)
    if valid.any():
        if options.correction == "simultaneous":
            se = np.maximum(np.nan_to_num(bootstrap_se(draws[:, valid]), nan=0.0), 1e-12)
            found = Contrasts("difference", point[valid], draws[:, valid], se)
            c = critical_value(found.t_max(), options.confidence)
            lows[valid] = np.maximum(point[valid] - c * se, 0.0)
            highs[valid] = point[valid] + c * se
        else:
            lows[valid], highs[valid] = percentile_interval(draws[:, valid], options.confidence)
    for row, low, high in zip(rows, lows, highs, strict=True):
        row.update(share_ratio_low=float(low), share_ratio_high=float(high))


# -- autoencoder groups -----------------------------------------------------------------


@dataclass
class AnomalyTables:
    group_rows: list[dict] = field(default_factory=list)
    test_rows: list[dict] = field(default_factory=list)
    test_contrasts: list = field(default_factory=list)
    small_groups: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


#: (check, statistic, higher_is_worse, name of the config threshold)
ANOMALY_TESTS = (
    ("flag_rate_parity", "difference", True, "max_difference"),
    ("flag_rate_ratio", "ratio", False, "min_ratio"),
)


def _flag_disparity(rates: np.ndarray, eligible: np.ndarray) -> dict[str, np.ndarray]:
    valid = eligible & np.isfinite(rates)
    hi = np.where(valid, rates, -np.inf).max(axis=-1)
    lo = np.where(valid, rates, np.inf).min(axis=-1)
    enough = valid.sum(axis=-1) >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "difference": np.where(enough, hi - lo, np.nan),
            "ratio": np.where(enough, np.where(hi > 0, lo / hi, 1.0), np.nan),
        }


@dataclass
class AnomalyCells:
    """Per (group, flagged or not): rows, and the sum and sum of squares of their
    errors. Cells of disjoint rows add up, so batches of a stream fold into them."""

    counts: np.ndarray  # (G, 2)
    sums: np.ndarray
    squares: np.ndarray

    @classmethod
    def of(cls, errors: np.ndarray, codes: np.ndarray, n_groups: int, threshold: float):
        flat = codes * 2 + (errors > threshold).astype(np.int64)
        size = 2 * n_groups
        return cls(
            np.bincount(flat, minlength=size).reshape(n_groups, 2).astype(np.float64),
            np.bincount(flat, weights=errors, minlength=size).reshape(n_groups, 2),
            np.bincount(flat, weights=errors * errors, minlength=size).reshape(n_groups, 2),
        )

    def __add__(self, other: AnomalyCells) -> AnomalyCells:
        return AnomalyCells(
            self.counts + other.counts, self.sums + other.sums, self.squares + other.squares
        )

    def totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group: rows, flagged rows, error sum (what :func:`anomaly_sums` gives)."""
        return self.counts.sum(1), self.counts[:, 1], self.sums.sum(1)


def poisson_anomaly_sums(
    cells: AnomalyCells, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group, B Poisson-bootstrap resamples of (rows, flagged rows, error sum), by
    :func:`~deepaudit.audit.fairness.stats.poisson_resample_cells` on the cells (as one
    class): each cell's count Poisson(its rows), its error sum normal given the count."""
    one_class = AnomalyCells(cells.counts[None], cells.sums[None], cells.squares[None])
    drawn = poisson_resample_cells(one_class, n_boot, rng)
    counts, sums = drawn.counts[:, 0], drawn.sums[:, 0]  # (B, G, 2)
    return counts.sum(2), counts[:, :, 1], sums.sum(2)


def audit_anomaly_grouping(
    errors: np.ndarray | None,
    threshold: float,
    grouping: Grouping | LevelGrouping,
    options: FairnessConfig,
    rng: np.random.Generator,
    tables: AnomalyTables,
    cells: AnomalyCells | None = None,
) -> None:
    """Flag rate and mean error per group of one grouping, with intervals and tests.

    From every row's ``errors`` (ordinary bootstrap over the rows), or, for data that
    streams, from the grouping's folded ``cells`` (one-pass Poisson bootstrap).
    """
    g = len(grouping.names)
    if cells is not None:
        count, flagged, error_sum = cells.totals()
    else:
        count, flagged, error_sum = anomaly_sums(errors, grouping.codes, g, threshold)
    rates = anomaly_rates(count, flagged, error_sum)
    overall = anomaly_rates(count.sum(), flagged.sum(), error_sum.sum())
    eligible = count >= options.min_group_size
    small = [
        (n, int(c)) for n, c, ok in zip(grouping.names, count, eligible, strict=True) if not ok
    ]
    if small:
        tables.small_groups[grouping.name] = small
    point = _flag_disparity(rates["flag_rate"], eligible)
    boot_rates = boot_overall = boot = None
    if options.n_bootstrap > 0 and cells is not None:
        b_count, b_flag, b_err = poisson_anomaly_sums(cells, options.n_bootstrap, rng)
    elif options.n_bootstrap > 0:
        onehot = np.eye(g)[grouping.codes]
        flags = (errors > threshold).astype(np.float64)[:, None]
        columns = np.hstack([onehot, onehot * flags, onehot * errors[:, None]])
        sums = resample_means(columns, options.n_bootstrap, rng) * len(errors)
        b_count, b_flag, b_err = sums[:, :g], sums[:, g : 2 * g], sums[:, 2 * g :]
    if options.n_bootstrap > 0:
        boot_rates = anomaly_rates(b_count, b_flag, b_err)
        boot_overall = anomaly_rates(b_count.sum(1), b_flag.sum(1), b_err.sum(1))
        boot = _flag_disparity(boot_rates["flag_rate"], eligible)
    for index, name in [(None, OVERALL), *enumerate(grouping.names)]:
        row = {
            "grouping": grouping.name,
            "group": name,
            "count": int(count.sum() if index is None else count[index]),
            "small": bool(index is not None and not eligible[index]),
        }
        for metric in ANOMALY_METRICS:
            row[metric] = float(overall[metric] if index is None else rates[metric][index])
            if boot_rates is not None:
                if metric == "flag_rate":  # a share of the group: Wilson's interval
                    n = count.sum() if index is None else count[index]
                    low, high = wilson_interval(row[metric], n, options.confidence)
                else:
                    samples = (
                        boot_overall[metric] if index is None else boot_rates[metric][:, index]
                    )
                    low, high = percentile_interval(samples, options.confidence)
                row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
        tables.group_rows.append(row)
    if boot is None:
        return
    lowest, highest = extreme_groups(rates["flag_rate"], eligible, grouping.names)
    for check, stat, higher_is_worse, threshold_name in ANOMALY_TESTS:
        found = contrasts(
            stat,
            [rates["flag_rate"]],
            [boot_rates["flag_rate"]],
            [float(overall["flag_rate"])],
            [boot_overall["flag_rate"]],
            [count],
            [float(count.sum())],
            eligible,
        )
        tables.test_rows.append(
            disparity_test_row(
                grouping.name,
                "",
                check,
                f"flag rate {stat}",
                float(point[stat]),
                options,
                threshold_name,
                higher_is_worse,
                (lowest, highest),
                int(eligible.sum()),
            )
        )
        tables.test_contrasts.append(found)
