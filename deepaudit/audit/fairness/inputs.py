"""Input checks of the fairness metrics: labels, scores and groups, with clear errors.

Labels become int64, scores float64 (P(class 1) or N×C probabilities), groups integer
codes with sorted labels (a DataFrame's rows become intersections ``"a & b"``). Every
failure names the parameter, what was expected and what came.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from deepaudit._validation import as_class_indices
from deepaudit.errors import (
    LENGTH_MISMATCH_MESSAGE,
    ValidationError,
    described,
    parameter_error,
    plural,
)
from deepaudit.intersections import join_parts

OWNER = "group_metrics"
OVERALL = "overall"

GROUP_OF_ONE_MESSAGE = (
    "Group {group!r} has a single sample: its rates are 0 or 1 by construction and say "
    "nothing about the group. Merge it with another group or collect more data."
)


class SmallGroupWarning(UserWarning):
    """A group too small for its metrics to estimate anything."""


def validate_labels_scores(
    y_true: Any, y_score: Any, owner: str = OWNER
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int64 (N,) and scores as float64, (N,) for binary or (N, C) multiclass.

    An (N, 2) array of probabilities becomes its positive column.
    """
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise parameter_error("y_true", owner, "a 1-d array of class labels", y)
    if y.dtype == bool:
        y = y.astype(np.int64)
    indices = as_class_indices(y)
    if indices is None:
        raise parameter_error("y_true", owner, "integer class labels", y)
    y = indices
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim not in (1, 2) or (s.ndim == 2 and s.shape[1] < 2):
        raise parameter_error(
            "y_score", owner, "P(class 1) per sample or an N×C array of class probabilities", s
        )
    if len(s) != len(y):
        raise ValidationError(
            LENGTH_MISMATCH_MESSAGE.format(name="y_score", owner=owner, expected=len(y), got=len(s))
        )
    if len(y) == 0:
        raise parameter_error("y_true", owner, "at least one sample", described("no samples"))
    if not np.all(np.isfinite(s)) or s.min() < 0 or s.max() > 1:
        raise parameter_error("y_score", owner, "probabilities in [0, 1]", _range_text(s))
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    n_classes = 2 if s.ndim == 1 else s.shape[1]
    present = np.unique(y)
    if present.min() < 0 or present.max() >= n_classes:
        if s.ndim == 1:
            expected = (
                "binary labels (0 or 1) for one score per sample; pass an N×C array "
                "of class probabilities for multiclass"
            )
        else:
            expected = f"class indices in [0, {n_classes - 1}] (one per score column)"
        raise parameter_error(
            "y_true", owner, expected, described(f"labels {present.tolist()[:10]}")
        )
    return y.astype(np.int64), s


def encode_groups(groups: Any, n: int, owner: str = OWNER) -> tuple[np.ndarray, list[str]]:
    """Integer codes (N,) and sorted labels of ``groups``.

    ``groups`` is one label per sample (any hashable values) or a DataFrame, whose rows
    become intersectional groups labelled ``"a & b"``.
    """
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] == 0:
            raise parameter_error("groups", owner, "at least one column", "none")
        _check_length(len(groups), n, owner)
        for column in groups.columns:
            _check_missing(groups[column], owner, f"groups[{column!r}]")
        return _intersections([groups[c].astype(str).to_numpy() for c in groups.columns], owner)
    if isinstance(groups, pd.Series):
        series = groups.reset_index(drop=True)
    else:
        array = groups if isinstance(groups, np.ndarray) else np.asarray(groups, dtype=object)
        if array.ndim != 1:
            raise parameter_error("groups", owner, "one group label per sample", array)
        series = pd.Series(array)
    _check_length(len(series), n, owner)
    _check_missing(series, owner, "groups")
    labels = series.astype(str).to_numpy()
    names, codes = np.unique(labels.astype(str), return_inverse=True)
    names = [str(x) for x in names]
    if OVERALL in names:
        raise parameter_error(
            "groups",
            owner,
            f"group labels other than {OVERALL!r} (it names the whole data)",
            OVERALL,
        )
    return codes.astype(np.int64), names


def _intersections(columns: list[np.ndarray], owner: str) -> tuple[np.ndarray, list[str]]:
    """Codes and sorted labels ``"a & b"`` of the combinations of several label columns."""
    parts = [np.unique(column, return_inverse=True) for column in columns]
    combined = np.ravel_multi_index(
        [inverse for _, inverse in parts], [len(names) for names, _ in parts]
    )
    present, codes = np.unique(combined, return_inverse=True)
    digits = np.unravel_index(present, [len(names) for names, _ in parts])
    labels = [
        join_parts(parts[j][0][d[i]] for j, d in enumerate(digits)) for i in range(len(present))
    ]
    order = np.argsort(np.asarray(labels, dtype=object), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    names = [labels[i] for i in order]
    _check_reserved(names, owner)
    return rank[codes].astype(np.int64), names


def _check_reserved(names: list[str], owner: str) -> None:
    if OVERALL in names:
        raise parameter_error(
            "groups",
            owner,
            f"group labels other than {OVERALL!r} (it names the whole data)",
            OVERALL,
        )


def _check_length(got: int, n: int, owner: str) -> None:
    if got != n:
        raise ValidationError(
            LENGTH_MISMATCH_MESSAGE.format(name="groups", owner=owner, expected=n, got=got)
        )


def _check_missing(series: pd.Series, owner: str, name: str) -> None:
    missing = int(series.isna().sum())
    if missing:
        raise parameter_error(
            name,
            owner,
            "a group for every sample",
            described(plural(int(missing), "missing value")),
        )


def _range_text(s: np.ndarray) -> str:
    if not np.all(np.isfinite(s)):
        return described("NaN or infinite values")
    return described(f"values in [{s.min():.4g}, {s.max():.4g}]")


def warn_tiny_groups(counts: np.ndarray, names: Sequence[str]) -> None:
    """Warn (SmallGroupWarning) about every group holding a single sample."""
    for name, c in zip(names, counts, strict=True):
        if c == 1:
            warnings.warn(GROUP_OF_ONE_MESSAGE.format(group=name), SmallGroupWarning, stacklevel=3)
