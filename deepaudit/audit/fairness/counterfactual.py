"""Counterfactual tests: change a sample's sensitive attribute, keep the rest, compare.

Tabular: the attribute's own input columns (the feature of the same name) are set to
the value most common in the other group, and its named proxies to those of a random
member of that group (an attribute that is no input can still be flipped through its
proxies).
Images: a colour attribute (group names that are colours of a palette, e.g. the
Coloured-MNIST digits of the ``cnn``) is changed by recolouring the image: the
grayscale stroke is recovered from the known tint and tinted again.

For each (attribute, from group, to group): the share of changed predictions and the
mean shift of the score (P(class 1) for a binary model, the probability of the
originally predicted class for a multiclass one, the reconstruction error for an
autoencoder), with bootstrap intervals over samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from deepaudit.audit.changes import raw_changes
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.metrics import wilson_interval
from deepaudit.audit.fairness.stats import (
    percentile_interval,
    resample_means,
)
from deepaudit.audit.target import Target

Editor = Callable[[torch.Tensor, np.ndarray, str], torch.Tensor]


@dataclass
class CounterfactualTables:
    rows: list[dict] = field(default_factory=list)
    summary_rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def palette(target: Target) -> dict[str, np.ndarray]:
    """Colour name -> RGB tint, from ``target.metadata["palette"]`` (an image attribute
    whose groups are all named there can be recoloured); empty when not given."""
    given = target.metadata.get("palette") or {}
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in given.items()}


def editors(
    target: Target, attributes: list[str], options: FairnessConfig, rng: np.random.Generator
) -> tuple[dict[str, Editor], list[str]]:
    """The attributes that can be changed in the model's inputs, each with its editor,
    and a note for each one that cannot."""
    out: dict[str, Editor] = {}
    notes = []
    for attribute in attributes:
        labels = target.sensitive[attribute].astype(str).to_numpy()
        if target.modality == "tabular" and (
            attribute in target.feature_groups or options.proxies.get(attribute)
        ):
            out[attribute] = _tabular_editor(target, attribute, labels, options, rng)
        elif target.modality == "image" and _is_colour(target, labels):
            out[attribute] = _recolour_editor(target, labels)
        else:
            notes.append(
                f"Attribute {attribute!r} is not an input of the model that deepaudit can "
                "change, so it was not flipped"
                + (
                    " (an image attribute naming colours is recoloured when "
                    "target.metadata['palette'] maps each of its groups to an RGB tint)."
                    if target.modality == "image" and not palette(target)
                    else "."
                )
            )
    return out, notes


def _is_colour(target: Target, labels: np.ndarray) -> bool:
    colours = palette(target)
    return (
        target.data.ndim == 4
        and target.data.shape[1] == 3
        and all(label in colours for label in np.unique(labels))
    )


def _tabular_editor(
    target: Target,
    attribute: str,
    labels: np.ndarray,
    options: FairnessConfig,
    rng: np.random.Generator,
) -> Editor:
    x = target.data
    columns = target.feature_groups.get(attribute, [])
    proxy_columns = []
    for proxy in options.proxies.get(attribute, []):
        if proxy in target.feature_groups:
            proxy_columns.extend(target.feature_groups[proxy])
        else:
            proxy_columns.append(target.feature_names.index(proxy))
    typical = {}
    members = {}
    for group in np.unique(labels):
        rows = np.flatnonzero(labels == group)
        members[group] = rows
        if columns:
            values, counts = np.unique(x[rows][:, columns].numpy(), axis=0, return_counts=True)
            typical[group] = torch.from_numpy(values[np.argmax(counts)])

    def edit(batch: torch.Tensor, _rows: np.ndarray, to: str) -> torch.Tensor:
        out = batch.clone()
        if columns:
            out[:, columns] = typical[to].to(out.dtype)
        if proxy_columns:
            donors = rng.choice(members[to], size=len(out))
            out[:, proxy_columns] = x[donors][:, proxy_columns]
        return out

    return edit


def _recolour_editor(target: Target, labels: np.ndarray) -> Editor:
    colours = palette(target)

    def edit(batch: torch.Tensor, rows: np.ndarray, to: str) -> torch.Tensor:
        source = colours[labels[rows[0]]]  # every row of a batch shares its colour
        channel = int(np.argmax(source))
        stroke = batch[:, channel : channel + 1] / float(source[channel])
        return stroke * torch.from_numpy(colours[to]).to(batch.dtype)[None, :, None, None]

    return edit


def _outputs(target: Target, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Decision and the full probabilities (classifier) or error (autoencoder)."""
    if target.kind == "autoencoder":
        error = target.reconstruction_error(x)
        return (error > target.anomaly_threshold).astype(np.int64), error
    proba = target.predict_proba(x)
    return proba.argmax(axis=1), proba


def _score(target: Target, out: np.ndarray, reference_pred: np.ndarray) -> np.ndarray:
    if target.kind == "autoencoder":
        return out
    if out.shape[1] == 2:
        return out[:, 1]
    return out[np.arange(len(out)), reference_pred]


def flip_attributes(
    target: Target,
    attributes: list[str],
    options: FairnessConfig,
    rng: np.random.Generator,
    tables: CounterfactualTables,
) -> None:
    """Change every sample's attribute to up to ``max_counterfactuals`` other groups."""
    found, notes = editors(target, attributes, options, rng)
    tables.notes.extend(notes)
    if not found:
        return
    pred, out = _outputs(target, target.data)
    labels_known = target.labels is not None and target.kind == "classifier"
    for attribute, edit in found.items():
        labels = target.sensitive[attribute].astype(str).to_numpy()
        groups, sizes = np.unique(labels, return_counts=True)
        by_size = [str(g) for g in groups[np.argsort(-sizes, kind="stable")]]
        per_sample_changed = np.zeros(len(labels))
        per_sample_shift = np.zeros(len(labels))
        per_sample_tried = np.zeros(len(labels))
        for source in by_size:
            rows = np.flatnonzero(labels == source)
            others = [g for g in by_size if g != source]
            for to in _alternatives(others, options.max_counterfactuals, target, rng):
                x_new = edit(target.data[torch.from_numpy(rows)], rows, to)
                new_pred, new_out = _outputs(target, x_new)
                changed = (new_pred != pred[rows]).astype(np.float64)
                shift = _score(target, new_out, pred[rows]) - _score(target, out[rows], pred[rows])
                per_sample_changed[rows] += changed
                per_sample_shift[rows] += shift
                per_sample_tried[rows] += 1
                order = np.argsort(-np.abs(shift), kind="stable")
                row = {
                    "attribute": attribute,
                    "from_group": source,
                    "to_group": to,
                    "n": len(rows),
                    "changed_share": float(changed.mean()),
                    "mean_shift": float(shift.mean()),
                    "mean_abs_shift": float(np.abs(shift).mean()),
                    "sample_ids": rows[order[:10]].tolist(),
                }
                if target.modality == "tabular" and len(rows):
                    moved = int(order[0])  # the sample it moved most: sample_ids[0]
                    row["example_changes"] = raw_changes(
                        target.data[int(rows[moved])].numpy(), x_new[moved].cpu().numpy(), target
                    )
                if labels_known:
                    y = target.labels[rows]
                    row["accuracy_before"] = float(np.mean(pred[rows] == y))
                    row["accuracy_after"] = float(np.mean(new_pred == y))
                _add_intervals(row, changed, shift, options, rng)
                tables.rows.append(row)
        tried = per_sample_tried > 0
        changed = per_sample_changed[tried] / per_sample_tried[tried]
        shift = per_sample_shift[tried] / per_sample_tried[tried]
        summary = {
            "attribute": attribute,
            "n": int(tried.sum()),
            "alternatives": int(per_sample_tried.sum()),
            "changed_share": float(changed.mean()),
            "mean_shift": float(shift.mean()),
            "mean_abs_shift": float(np.abs(shift).mean()),
            "threshold": options.max_flip_rate,
        }
        _add_intervals(summary, changed, shift, options, rng)

        tables.summary_rows.append(summary)


def _alternatives(
    others: list[str], limit: int, target: Target, rng: np.random.Generator
) -> list[str]:
    """The groups to change into: the most common first (tabular); a random choice of
    colours (images, where every colour is as common as the next)."""
    if len(others) <= limit:
        return others
    if target.modality == "image":
        return [others[i] for i in sorted(rng.choice(len(others), size=limit, replace=False))]
    return others[:limit]


def _add_intervals(
    row: dict,
    changed: np.ndarray,
    shift: np.ndarray,
    options: FairnessConfig,
    rng: np.random.Generator,
) -> np.ndarray | None:
    if options.n_bootstrap <= 0 or len(changed) == 0:
        return None
    boot = resample_means(np.column_stack([changed, shift]), options.n_bootstrap, rng)
    low, high = percentile_interval(boot, options.confidence)
    # A share of changed outputs (each sample's in [0, 1]) gets Wilson's interval, which
    # keeps a width when nothing, or everything, changed.
    share_low, share_high = wilson_interval(float(changed.mean()), len(changed), options.confidence)
    row.update(
        changed_share_low=float(share_low),
        changed_share_high=float(share_high),
        mean_shift_low=float(low[1]),
        mean_shift_high=float(high[1]),
    )
    return boot
