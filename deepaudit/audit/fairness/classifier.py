"""Group metrics, disparities and their tests for a classifier, with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.groups import Grouping, LevelGrouping
from deepaudit.audit.fairness.inputs import OVERALL
from deepaudit.audit.fairness.metrics import (
    TOP_LABEL,
    Cells,
    GroupAnalysis,
    add_intervals,
    bootstrap_rates,
    cell_rates,
    disparity_arrays,
    extreme_groups,
    group_metrics_frame,
)
from deepaudit.audit.fairness.registry import measures, tests
from deepaudit.audit.fairness.stats import (
    bootstrap_se,
    excess_p_value,
    percentile_interval,
)

STATISTICS = ("difference", "ratio", "difference_to_overall", "ratio_to_overall")


@dataclass
class GroupTables:
    """Rows of the group-metric, disparity and test tables of one or more groupings."""

    group_rows: list[dict] = field(default_factory=list)
    disparity_rows: list[dict] = field(default_factory=list)
    test_rows: list[dict] = field(default_factory=list)
    small_groups: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def audit_cells(
    cells: Cells,
    grouping: Grouping | LevelGrouping,
    class_names: Sequence[str],
    options: FairnessConfig,
    rng: np.random.Generator,
    tables: GroupTables,
    bootstrap: str = "multinomial",
) -> None:
    """Add one grouping's group metrics, disparities and tests (p-values against the
    audit's limits, uncorrected), from its cell table (however it was folded)."""
    rates, overall = cell_rates(cells)
    analysis = GroupAnalysis(
        grouping.names, list(class_names), cells, rates, overall, options.threshold, options.n_bins
    )
    frame = group_metrics_frame(analysis)
    counts = rates["count"][0]
    eligible = counts >= options.min_group_size
    small = [
        (name, int(c))
        for name, c, ok in zip(grouping.names, counts, eligible, strict=True)
        if not ok
    ]
    if small:
        tables.small_groups[grouping.name] = small
    point = disparity_arrays(rates, overall, eligible)
    boot = None
    if options.n_bootstrap > 0:
        boot_rates, boot_overall = bootstrap_rates(analysis, options.n_bootstrap, rng, bootstrap)
        boot = disparity_arrays(boot_rates, boot_overall, eligible)
        intervals = {
            (measure, stat): percentile_interval(samples, options.confidence)
            for measure, stats in boot.items()
            for stat, samples in stats.items()
        }
        spread = {
            (measure, stat): bootstrap_se(samples)
            for measure, stats in boot.items()
            for stat, samples in stats.items()
        }
        add_intervals(frame, boot_rates, boot_overall, options.confidence)
    frame.insert(0, "grouping", grouping.name)
    frame.insert(
        4, "small", (frame["group"] != OVERALL) & (frame["count"] < options.min_group_size)
    )
    tables.group_rows.extend(frame.to_dict("records"))

    excluded = ", ".join(name for name, _ in small)
    for c, class_name in enumerate(class_names):
        for measure, stats in point.items():
            lowest, highest = extreme_groups(
                rates[_first_metric(measure)][c], eligible, grouping.names
            )
            row = {"grouping": grouping.name, "class": class_name, "measure": measure}
            for stat in STATISTICS:
                row[stat] = float(stats[stat][c])
                if boot is not None:
                    low, high = intervals[measure, stat]
                    row[f"{stat}_low"], row[f"{stat}_high"] = float(low[c]), float(high[c])
            row.update(
                lowest_group=lowest,
                highest_group=highest,
                n_groups=int(eligible.sum()),
                excluded_groups=excluded,
            )
            tables.disparity_rows.append(row)
        if boot is None:
            continue
        for check, measure, stat, higher_is_worse, threshold_name in tests():
            if not _tested(check, class_name, len(class_names) > 1):
                continue
            value = float(point[measure][stat][c])
            low, high = (float(b[c]) for b in intervals[measure, stat])
            threshold = float(getattr(options, threshold_name))
            lowest, highest = extreme_groups(
                rates[_first_metric(measure)][c], eligible, grouping.names
            )
            se = float(spread[measure, stat][c])
            tables.test_rows.append(
                {
                    "grouping": grouping.name,
                    "class": class_name,
                    "check": check,
                    "statistic": f"{measure} {stat}",
                    "value": value,
                    "low": low,
                    "high": high,
                    "threshold": threshold,
                    "higher_is_worse": higher_is_worse,
                    "p_value": excess_p_value(
                        value, se, threshold, higher_is_worse=higher_is_worse
                    ),
                    "lowest_group": lowest,
                    "highest_group": highest,
                    "n_groups": int(eligible.sum()),
                    "se": se,
                    "limit": threshold_name,
                }
            )


def _tested(check: str, class_name: str, multiclass: bool) -> bool:
    """Binary: every check. Multiclass: accuracy parity on the top-label slice only, the
    rest one-vs-rest per class."""
    if not multiclass:
        return True
    return (check == "accuracy_parity") == (class_name == TOP_LABEL)


def _first_metric(measure: str) -> str:
    return measures()[measure][0]
