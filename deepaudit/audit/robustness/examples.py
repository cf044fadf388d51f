"""A few adversarial examples per group, saved as arrays for the report and dashboard.

For each group of each sensitive attribute (everyone when there are none), the first
``n_examples`` attacked samples of the group that an attack broke: the original input,
the adversarial one, the label and the predictions before and after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepaudit.audit.robustness.stats import group_masks


def pick(
    broken: np.ndarray, sensitive: pd.DataFrame | None, per_group: int
) -> list[tuple[int, str, str]]:
    """``(index, attribute, group)`` of up to ``per_group`` broken samples per group."""
    chosen = []
    masks = group_masks(sensitive, len(broken))
    if len(masks) > 1:
        masks = masks[1:]  # per group only; "overall" would repeat them
    for attribute, group, mask in masks:
        for i in np.flatnonzero(mask & broken)[:per_group]:
            chosen.append((int(i), attribute, group))
    return chosen


def label_name(index: int, class_names: list[str] | None) -> str:
    if class_names is not None and 0 <= index < len(class_names):
        return class_names[index]
    return str(index)


def save(
    result_arrays: dict,
    rows: list[dict],
    originals: list[np.ndarray],
    adversarials: list[np.ndarray],
) -> None:
    """Stack the examples into ``examples_original`` / ``examples_adversarial`` (the
    ``example`` column of each table row indexes them)."""
    if not originals:
        return
    result_arrays["examples_original"] = np.stack(originals).astype(
        originals[0].dtype if originals[0].dtype.kind in "iu" else np.float32
    )
    result_arrays["examples_adversarial"] = np.stack(adversarials).astype(
        result_arrays["examples_original"].dtype
    )
    result_arrays["examples_label"] = np.asarray([r["label_index"] for r in rows], np.int64)
    result_arrays["examples_before"] = np.asarray([r["before_index"] for r in rows], np.int64)
    result_arrays["examples_after"] = np.asarray([r["after_index"] for r in rows], np.int64)
