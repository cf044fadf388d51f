"""What the dashboard needs to recompute the audit's group metrics live.

The audit saves the scores, labels (or reconstruction errors) and group codes it used,
with the code -> label mapping in the ``group_codes`` table. :func:`live_inputs` turns
them back into the keyword arguments of :func:`group_metrics` (or
:func:`anomaly_group_metrics`) for one grouping, so a threshold slider calls the very
function the audit called, on the very same inputs. This module does not import torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from deepaudit.errors import parameter_error
from deepaudit.intersections import split_parts
from deepaudit.results import FamilyResult

#: The random stream of the group tables' bootstrap (``default_rng([sample_seed, 0])``).
GROUP_STREAM = 0


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


def live_tests(
    result: FamilyResult,
    grouping: str,
    threshold: float | None,
    options: Mapping[str, Any] | None = None,
    sample_seed: int = 0,
) -> list[dict]:
    """The disparity tests of ``grouping`` at ``threshold``, with their intervals and
    verdicts, by the audit's own core (cells, bootstrap, simultaneous intervals over the
    tests of every grouping, as audited; the one grading rule), on the samples the audit
    saved. ``options`` are the audit's fairness settings (limits, resamples, confidence)
    and ``sample_seed`` the audit's: at the audit's threshold, the audit's own intervals
    and verdicts."""
    from deepaudit.audit.fairness.classifier import GroupTables, audit_cells, finish_tests
    from deepaudit.audit.fairness.config import FairnessConfig
    from deepaudit.audit.fairness.groups import Grouping
    from deepaudit.audit.fairness.metrics import TOP_LABEL, build_cells

    if "errors" in result.arrays:
        return []
    # the saved settings, as regrade reads them, at the slider's threshold
    config = FairnessConfig.with_limits(options or {}, {}).replace(threshold=threshold)

    group_labels(result, grouping)  # an unknown grouping is refused, naming the known ones
    class_names = list(result.metrics["class_names"])
    binary = np.ndim(result.arrays["scores"]) == 1
    classes = [class_names[-1]] if binary else [*class_names, TOP_LABEL]
    labels = np.asarray(result.arrays["labels"])
    scores = np.asarray(result.arrays["scores"], dtype=np.float64)
    tables = GroupTables()
    rng = np.random.default_rng([sample_seed, GROUP_STREAM])
    for name in groupings(result):  # every grouping: the multiple comparison paid as audited
        names, codes = np.unique(group_labels(result, name).astype(str), return_inverse=True)
        cells = build_cells(labels, scores, codes, len(names), threshold, config.n_bins)
        split = Grouping(name, tuple(split_parts(name)), codes, [str(n) for n in names])
        audit_cells(cells, split, classes, config, rng, tables)
    return [r for r in finish_tests(tables, config) if r["grouping"] == grouping]
