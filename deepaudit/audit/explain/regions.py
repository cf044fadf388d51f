"""Named regions of the input: how much of the attribution falls inside each.

A reviewer who suspects a cue (a watermark in a corner, a set of tokens, a group of
features) names it as a region, ``ExplainConfig(regions={"corner": mask})``; each
method's share of |attribution| inside it is measured sample by sample and read against
the region's share of the input. Their ratio, the enrichment, is about 1 when the model
looks at the region no more than at any other part of its size; the finding warns when
its bootstrap interval (over the explained samples) lies above
``max_region_enrichment``.

A region is, by modality: a boolean mask over an image's pixels (H×W, or C×H×W), a list
of feature names (tabular) or a list of tokens (text, wherever they occur).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from deepaudit.errors import described, parameter_error

if TYPE_CHECKING:
    from deepaudit.audit.target import Target

OWNER = "ExplainConfig"


def check_regions(target: Target, regions: Mapping[str, Any]) -> None:
    """Refuse regions that do not fit ``target``, before any work."""
    for name, region in regions.items():
        where = f"regions[{name!r}]"
        if target.modality == "image":
            mask = np.asarray(region)
            data = target.data if target.data is not None else target.sample_target().data
            shape = tuple(data.shape[1:])
            if mask.dtype.kind not in "bi" or mask.shape not in (shape, shape[1:]):
                raise parameter_error(
                    where,
                    OWNER,
                    f"a boolean mask of shape {shape[1:]} or {shape}",
                    described(f"an array of shape {mask.shape} and dtype {mask.dtype}"),
                )
            if not mask.any() or mask.all():
                raise parameter_error(
                    where, OWNER, "a mask covering part of the input", "a mask of all one value"
                )
        elif target.modality == "tabular":
            unknown = [f for f in region if f not in target.feature_groups]
            if unknown:
                raise parameter_error(
                    where,
                    OWNER,
                    "names of logical features of the target ("
                    + ", ".join(target.feature_groups)
                    + ")",
                    unknown,
                )
        elif target.modality == "text":
            vocab = set(target.vocab or ())
            unknown = [t for t in region if t not in vocab]
            if unknown:
                raise parameter_error(where, OWNER, "tokens of the target's vocabulary", unknown)


def _member(case, region) -> np.ndarray:
    """Per sample and attribution unit, whether it lies in ``region`` (N × units)."""
    modality = case.space.modality
    if modality == "image":
        mask = np.asarray(region, dtype=bool)
        shape = tuple(case.inputs.shape[1:])
        full = np.broadcast_to(mask if mask.shape == shape else mask[None], shape)
        return np.broadcast_to(full.reshape(1, -1), (case.n, full.size))
    if modality == "tabular":
        names = set(region)
        inside = np.array([n in names for n in case.space.names])
        return np.broadcast_to(inside, (case.n, len(inside)))
    vocab = list(case.target.vocab)
    ids = {vocab.index(t) for t in region}
    tokens = case.inputs.reshape(case.n, -1).cpu().numpy()
    return np.isin(tokens, list(ids))


def _units(case, run) -> tuple[np.ndarray, np.ndarray]:
    """|attribution| per sample and unit (pixels of every channel, features, tokens), and
    which units count (not padding)."""
    if case.space.modality == "image":
        values = np.abs(np.asarray(run["attribution"].values, dtype=np.float64))
        values = values.reshape(case.n, -1)
        return values, np.ones(values.shape, dtype=bool)
    scores = np.abs(np.asarray(run["scores"], dtype=np.float64))
    if case.space.modality == "text":
        tokens = case.inputs.reshape(case.n, -1).cpu().numpy()
        return scores, tokens != 0
    return scores, np.isfinite(scores)


def ratio_interval(
    numerator: np.ndarray, denominator: np.ndarray, confidence: float, seed: int, n_boot: int = 4000
) -> tuple[float, float, float]:
    """``mean(numerator) / mean(denominator)`` over samples and its percentile-bootstrap
    interval (samples resampled together)."""
    num, den = np.asarray(numerator, float), np.asarray(denominator, float)
    if len(num) == 0 or den.mean() <= 0:
        return float("nan"), float("nan"), float("nan")
    value = float(num.mean() / den.mean())
    if len(num) < 2:
        return value, float("nan"), float("nan")
    rng = np.random.default_rng([seed, 13])
    picks = rng.integers(0, len(num), size=(n_boot, len(num)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = num[picks].mean(axis=1) / den[picks].mean(axis=1)
    low, high = np.nanquantile(ratios, [(1 - confidence) / 2, (1 + confidence) / 2])
    return value, float(low), float(high)


def region_rows(
    case, runs: dict, regions: Mapping[str, Any], confidence: float, seed: int
) -> list[dict]:
    """One row per region and method: the share of |attribution| inside the region, the
    region's share of the input, and their ratio, each over the explained samples."""
    rows = []
    for name, region in regions.items():
        member = _member(case, region)
        for method, run in runs.items():
            values, counted = _units(case, run)
            counted = counted & np.isfinite(values)
            inside = member & counted
            total = np.where(counted, values, 0.0).sum(axis=1)
            keep = (total > 0) & inside.any(axis=1)
            share = np.where(inside, values, 0.0).sum(axis=1)[keep] / total[keep]
            size = inside.sum(axis=1)[keep] / counted.sum(axis=1)[keep]
            mean_share = ratio_interval(share, np.ones_like(share), confidence, seed)
            enrichment = ratio_interval(share, size, confidence, seed)
            rows.append(
                {
                    "region": name,
                    "method": method,
                    "label": run["spec"].label,
                    "n_samples": int(keep.sum()),
                    "share": mean_share[0],
                    "share_low": mean_share[1],
                    "share_high": mean_share[2],
                    "input_share": float(size.mean()) if len(size) else float("nan"),
                    "enrichment": enrichment[0],
                    "enrichment_low": enrichment[1],
                    "enrichment_high": enrichment[2],
                }
            )
    return rows
