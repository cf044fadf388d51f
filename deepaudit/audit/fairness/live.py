"""What the dashboard needs to recompute the audit's group metrics live.

The audit saves the scores, labels (or reconstruction errors) and group codes it used,
with the code -> label mapping in the ``group_codes`` table. :func:`live_inputs` turns
them back into the keyword arguments of :func:`group_metrics` (or
:func:`anomaly_group_metrics`) for one grouping, so a threshold slider calls the very
function the audit called, on the very same inputs. This module does not import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepaudit.errors import parameter_error
from deepaudit.results import FamilyResult


def groupings(result: FamilyResult) -> list[str]:
    """Names of the groupings saved in a fairness result, in column order."""
    seen: dict[str, int] = {}
    for row in result.tables.get("group_codes", []):
        seen.setdefault(row["grouping"], row["column"])
    return sorted(seen, key=seen.__getitem__)


def group_labels(result: FamilyResult, grouping: str) -> np.ndarray:
    """The group label of every audited sample for ``grouping``."""
    rows = [r for r in result.tables.get("group_codes", []) if r["grouping"] == grouping]
    if not rows:
        raise parameter_error(
            "grouping", "live_inputs", "one of " + ", ".join(map(repr, groupings(result))), grouping
        )
    names = np.empty(len(rows), dtype=object)
    for row in rows:
        names[row["code"]] = row["group"]
    return names[result.arrays["group_codes"][:, rows[0]["column"]]]


def live_inputs(
    result: FamilyResult, grouping: str, threshold: float | str | None = "audit"
) -> dict[str, Any]:
    """Keyword arguments reproducing the audit's table for ``grouping``.

    Classifiers: for :func:`group_metrics`; autoencoders: for
    :func:`anomaly_group_metrics`. ``threshold="audit"`` keeps the audit's threshold;
    pass a number to move it (the slider).
    """
    groups = group_labels(result, grouping)
    if "errors" in result.arrays:
        chosen = result.metrics["anomaly_threshold"] if threshold == "audit" else threshold
        return {"errors": result.arrays["errors"], "groups": groups, "threshold": chosen}
    chosen = result.metrics.get("threshold") if threshold == "audit" else threshold
    return {
        "y_true": result.arrays["labels"],
        "y_score": result.arrays["scores"],
        "groups": groups,
        "threshold": chosen,
        "n_bins": int(result.metrics["n_bins"]),
        "class_names": result.metrics["class_names"],
    }
