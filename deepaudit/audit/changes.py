"""What an edit of a tabular row changed, in words: ``"age: 58 → 55.1; workclass: Gov →
Private"``, in raw columns when the target has a preprocessing step (attacks and
counterfactual flips both report their changes this way)."""

from __future__ import annotations

import numpy as np


def feature_changes(
    before: np.ndarray, after: np.ndarray, names: list[str], tol: float = 1e-6
) -> str:
    """``"name: a → b; ..."`` for the columns an attack changed."""
    moved = np.flatnonzero(np.abs(after - before) > tol)
    return "; ".join(f"{names[j]}: {before[j]:.3g} → {after[j]:.3g}" for j in moved)


def raw_changes(before: np.ndarray, after: np.ndarray, target) -> str:
    """:func:`feature_changes` in raw columns when the target has a preprocessing step
    (``age: 58 → 55.1``), else in the model's columns."""
    raw = getattr(target, "raw_columns", None)
    if raw is None:
        return feature_changes(before, after, target.feature_names)
    decoded = raw.decode(np.stack([before, after]))
    old, new = decoded.iloc[0], decoded.iloc[1]
    parts = []
    for column, cols in raw.groups.items():
        if not np.any(np.abs(after[cols] - before[cols]) > 1e-6):
            continue
        a, b = old[column], new[column]
        shown = (lambda v: v) if isinstance(a, str) else (lambda v: f"{float(v):.3g}")
        parts.append(f"{column}: {shown(a)} → {shown(b)}")
    return "; ".join(parts)
