"""The group metrics of the fairness family: built-in ones and your own.

Every group metric is computed from the four counts of a group's confusion matrix
(true and false positives, false and true negatives), which is what lets one cell table
serve the audit, its bootstrap (1,000 resamples of a million rows in about a second) and
the dashboard's threshold slider. A metric of your own is one function of those counts::

    import deepaudit as da

    @da.register_metric("npv", label="Negative predictive value")
    def npv(tp, fp, fn, tn):
        return tn / (tn + fn)

It then gets a column (with bootstrap intervals) in every group-metrics table, a
disparity measure ``npv_parity`` (the largest gap between groups) and, unless
``tested=False``, a disparity test read against ``FairnessConfig.max_difference``, in
the audit, the report and the dashboard, with no other change.

This module imports numpy only: configs and saved results are read without the
measuring code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deepaudit.errors import described, parameter_error
from deepaudit.plugins import load_plugins

#: Built-in group metrics, in the order of the table's columns (the first seven are
#: ratios of counts, computed in :func:`~.metrics.rates_from_cells`; the last two read
#: the scores).
BUILTIN_METRICS = (
    "selection_rate",
    "accuracy",
    "tpr",
    "fpr",
    "fnr",
    "precision",
    "base_rate",
    "calibration_error",
    "mean_score",
)

#: Built-in disparity measures: the group metrics each compares across groups.
BUILTIN_MEASURES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("tpr",),
    "equalized_odds": ("tpr", "fpr"),
    "predictive_parity": ("precision",),
    "accuracy_parity": ("accuracy",),
    "calibration_parity": ("calibration_error",),
}

#: Built-in tests: (check, measure, statistic, higher_is_worse, name of the config limit).
BUILTIN_TESTS = (
    ("demographic_parity", "demographic_parity", "difference", True, "max_difference"),
    ("equal_opportunity", "equal_opportunity", "difference", True, "max_difference"),
    ("equalized_odds", "equalized_odds", "difference", True, "max_difference"),
    ("predictive_parity", "predictive_parity", "difference", True, "max_difference"),
    ("four_fifths", "demographic_parity", "ratio", False, "min_ratio"),
    ("accuracy_parity", "accuracy_parity", "difference", True, "max_difference"),
)


@dataclass(frozen=True)
class GroupMetric:
    """A registered group metric: ``compute(tp, fp, fn, tn)`` on arrays of counts (any
    shape) returns the metric of each, NaN where it is undefined."""

    name: str
    label: str
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    tested: bool = True

    @property
    def measure(self) -> str:
        return f"{self.name}_parity"


#: The group-metrics table's own columns, which a metric may not be named.
RESERVED_NAMES = ("grouping", "class", "group", "count", "small")

_REGISTERED: dict[str, GroupMetric] = {}


def registered_metrics() -> dict[str, GroupMetric]:
    """The metrics added with :func:`register_metric`, by name."""
    load_plugins()
    return dict(_REGISTERED)


def list_metrics() -> list[str]:
    """Every group metric, the built-in ones first (the columns of the table)."""
    load_plugins()
    return [*BUILTIN_METRICS, *_REGISTERED]


def measures() -> dict[str, tuple[str, ...]]:
    """Every disparity measure and the metrics it compares."""
    return {**BUILTIN_MEASURES, **{m.measure: (m.name,) for m in _REGISTERED.values()}}


def tests() -> tuple[tuple, ...]:
    """Every disparity test: (check, measure, statistic, higher_is_worse, limit)."""
    mine = tuple(
        (m.measure, m.measure, "difference", True, "max_difference")
        for m in _REGISTERED.values()
        if m.tested
    )
    return BUILTIN_TESTS + mine


def metric_label(check: str) -> str | None:
    """The label of the registered metric a check tests (``None`` if none does)."""
    for metric in _REGISTERED.values():
        if metric.measure == check:
            return metric.label
    return None


def register_metric(
    name: str,
    compute: Callable | None = None,
    *,
    label: str | None = None,
    tested: bool = True,
) -> Callable:
    """Add a group metric (usable as a decorator); returns ``compute``.

    ``compute(tp, fp, fn, tn)`` receives float arrays of the same shape (one entry per
    group, class and bootstrap resample) and returns the metric of each, as an array of
    that shape; divisions by zero may produce NaN or infinities (they are read as
    undefined). ``tested`` adds a disparity test of its between-group difference against
    ``FairnessConfig.max_difference``.
    """
    owner = "register_metric"
    if not isinstance(name, str) or not name.isidentifier():
        raise parameter_error("name", owner, "a Python identifier", name)
    if name in BUILTIN_METRICS or name in RESERVED_NAMES or name.endswith(("_low", "_high")):
        raise parameter_error(
            "name",
            owner,
            "a name no built-in metric or table column has (not "
            + ", ".join(map(repr, RESERVED_NAMES))
            + ", nor ending in _low or _high)",
            name,
        )
    if not isinstance(tested, bool):
        raise parameter_error("tested", owner, "a bool", tested)

    def add(function: Callable) -> Callable:
        if not callable(function):
            raise parameter_error("compute", owner, "a function of (tp, fp, fn, tn)", function)
        probe = np.array([3.0, 0.0]), np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.ones(2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.asarray(function(*probe), dtype=np.float64)
        if out.shape != (2,):
            raise parameter_error(
                "compute",
                owner,
                "a function returning one value per entry of its count arrays",
                described(f"an output of shape {out.shape} for inputs of shape (2,)"),
            )
        _REGISTERED[name] = GroupMetric(
            name, label or name.replace("_", " ").capitalize(), function, tested
        )
        return function

    return add if compute is None else add(compute)


def unregister_metric(name: str) -> None:
    """Remove a metric added with :func:`register_metric`."""
    _REGISTERED.pop(name, None)


def user_rates(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """Every registered metric of the given counts."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {}
        for name, metric in _REGISTERED.items():
            values = np.asarray(metric.compute(tp, fp, fn, tn), dtype=np.float64)
            out[name] = np.where(np.isfinite(values), values, np.nan)
        return out
