"""Group metrics, disparities and their tests for a classifier, with intervals.

Rates get Wilson intervals (bootstrap ones for the metrics that are not shares), and
each disparity an interval from simultaneous intervals of the contrasts between groups
(:mod:`.simultaneous`), so that it covers the true gap, 0 included. A test row keeps the
contrasts of its statistic until :func:`finish_tests` has read every test of a check.
"""

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
    rate_denominators,
)
from deepaudit.audit.fairness.registry import measures, tests
from deepaudit.audit.fairness.simultaneous import (
    Contrasts,
    contrasts,
    critical_value,
    with_test_intervals,
)
from deepaudit.intersections import split_parts

STATISTICS = ("difference", "ratio", "difference_to_overall", "ratio_to_overall")


@dataclass
class GroupTables:
    """Rows of the group-metric, disparity and test tables of one or more groupings, and
    the contrasts behind each test (until its interval is set)."""

    group_rows: list[dict] = field(default_factory=list)
    disparity_rows: list[dict] = field(default_factory=list)
    test_rows: list[dict] = field(default_factory=list)
    test_contrasts: list[Contrasts | None] = field(default_factory=list)
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
    """Add one grouping's group metrics, disparities and tests (the tests' intervals are
    set by :func:`finish_tests`, once every grouping is in), from its cell table
    (however it was folded)."""
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
    sets: dict[tuple[int, str, str], Contrasts] = {}
    if options.n_bootstrap > 0:
        boot_rates, boot_overall = bootstrap_rates(analysis, options.n_bootstrap, rng, bootstrap)
        add_intervals(frame, boot_rates, boot_overall, options.confidence, analysis)
        n = rate_denominators(cells.counts)
        n_overall = rate_denominators(cells.counts.sum(axis=1))
        for c in range(len(class_names)):
            for measure, metrics in measures().items():
                if measure not in point:
                    continue
                for stat in STATISTICS:
                    sets[c, measure, stat] = contrasts(
                        stat,
                        [rates[m][c] for m in metrics],
                        [boot_rates[m][:, c] for m in metrics],
                        [float(overall[m][c]) for m in metrics],
                        [boot_overall[m][:, c] for m in metrics],
                        [n[m][c] for m in metrics],
                        [float(n_overall[m][c]) for m in metrics],
                        eligible,
                    )
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
                if sets:
                    found = sets[c, measure, stat]
                    low, high = _interval(found, row[stat], options.confidence)
                    row[f"{stat}_low"], row[f"{stat}_high"] = low, high
            row.update(
                lowest_group=lowest,
                highest_group=highest,
                n_groups=int(eligible.sum()),
                excluded_groups=excluded,
            )
            tables.disparity_rows.append(row)
        if not sets:
            continue
        base_rates = rates["base_rate"][c]
        for check, measure, stat, higher_is_worse, threshold_name in tests():
            if not _tested(check, class_name, len(class_names) > 1):
                continue
            value = float(point[measure][stat][c])
            lowest, highest = extreme_groups(
                rates[_first_metric(measure)][c], eligible, grouping.names
            )
            row = disparity_test_row(
                grouping.name,
                class_name,
                check,
                f"{measure} {stat}",
                value,
                options,
                threshold_name,
                higher_is_worse,
                (lowest, highest),
                int(eligible.sum()),
            )
            if measure == "demographic_parity" and lowest is not None:
                names = list(grouping.names)
                gap = float(base_rates[names.index(highest)] - base_rates[names.index(lowest)])
                row["base_rate_gap"] = gap
            tables.test_rows.append(row)
            tables.test_contrasts.append(sets[c, measure, stat])


def finish_tests(tables: GroupTables, options: FairnessConfig) -> list[dict]:
    """The test rows of every grouping in ``tables``, with their intervals (simultaneous
    over each check's tests, or alone: ``options.correction``) and verdicts."""
    from deepaudit.audit.fairness.grade import decide_tests

    rows = with_test_intervals(
        tables.test_rows, tables.test_contrasts, options.correction, options.confidence
    )
    return decide_tests(rows, options)


def disparity_test_row(
    grouping: str,
    class_name: str,
    check: str,
    statistic: str,
    value: float,
    options: FairnessConfig,
    threshold_name: str,
    higher_is_worse: bool,
    extremes: tuple[str | None, str | None],
    n_groups: int,
) -> dict:
    """One disparity test before its interval is set (``low``/``high`` NaN)."""
    return {
        "grouping": grouping,
        "class": class_name,
        "check": check,
        "statistic": statistic,
        "value": value,
        "low": float("nan"),
        "high": float("nan"),
        "threshold": float(getattr(options, threshold_name)),
        "higher_is_worse": higher_is_worse,
        "lowest_group": extremes[0],
        "highest_group": extremes[1],
        "n_groups": n_groups,
        "limit": threshold_name,
        "attributes": len(split_parts(grouping)),
    }


def _interval(found: Contrasts, value: float, confidence: float) -> tuple[float, float]:
    """The statistic's interval from its own contrasts alone (NaN when it is)."""
    if not np.isfinite(value):
        return float("nan"), float("nan")
    return found.interval(critical_value(found.t_max(), confidence))


def _tested(check: str, class_name: str, multiclass: bool) -> bool:
    """Binary: every check. Multiclass: accuracy parity on the top-label slice only, the
    rest one-vs-rest per class."""
    if not multiclass:
        return True
    return (check == "accuracy_parity") == (class_name == TOP_LABEL)


def _first_metric(measure: str) -> str:
    return measures()[measure][0]
