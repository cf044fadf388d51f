"""Natural perturbations scored: accuracy under each corruption of the target's modality
(see :mod:`deepaudit.audit.robustness.corruptions`), overall and per group, with a
the most damaging one graded in :mod:`.grade`.
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.corruptions import (
    SEVERITIES,
    TEXT_OPERATIONS,
    Retokenizer,
    perturb_images,
    perturb_table,
)
from deepaudit.audit.robustness.registry import registered_perturbations
from deepaudit.audit.robustness.space import mutable_columns
from deepaudit.audit.robustness.stats import group_masks, proportion
from deepaudit.audit.robustness.words import word_like
from deepaudit.audit.target import Target
from deepaudit.errors import ValidationError


def _strongest(levels: tuple[float, ...], count: int) -> tuple[float, ...]:
    """The ``count`` strongest severities (the lists run from mild to strong), mild first."""
    return levels[-count:]


def perturbed_inputs(
    target: Target, x: torch.Tensor, options: RobustnessConfig, rng: np.random.Generator
) -> list[tuple[str, float, torch.Tensor]]:
    """``(kind, severity, inputs)`` for every natural perturbation of ``x``'s modality,
    the registered ones (:func:`.registry.register_perturbation`) after the built-in."""
    out = _builtin_perturbations(target, x, options, rng)
    for name, perturbation in registered_perturbations().items():
        if target.modality not in perturbation.modalities:
            continue
        for s in _strongest(perturbation.severities, options.natural_levels):
            perturbed = torch.as_tensor(perturbation.compute(x, s, rng)).to(x.device, x.dtype)
            if perturbed.shape != x.shape:
                raise ValidationError(
                    f"The perturbation {name!r} returned shape {tuple(perturbed.shape)} for "
                    f"inputs of shape {tuple(x.shape)}: it must keep the shape of its inputs."
                )
            out.append((name, s, perturbed))
    return out


def _builtin_perturbations(
    target: Target, x: torch.Tensor, options: RobustnessConfig, rng: np.random.Generator
) -> list[tuple[str, float, torch.Tensor]]:
    out = []
    if target.modality == "image":
        for kind, levels in SEVERITIES["image"].items():
            for s in _strongest(levels, options.natural_levels):
                out.append((kind, s, perturb_images(x, kind, s, target.input_range, rng)))
    elif target.modality == "tabular":
        columns = mutable_columns(target, options.immutable_features)
        if not columns:
            return out
        data = target.data.to(x.device)
        std = data.std(dim=0)
        lower = torch.tensor([target.feature_ranges[f][0] for f in target.feature_names])
        upper = torch.tensor([target.feature_ranges[f][1] for f in target.feature_names])
        for s in _strongest(SEVERITIES["tabular"]["gaussian_noise"], options.natural_levels):
            out.append(
                (
                    "gaussian_noise",
                    s,
                    perturb_table(x, columns, std, lower.to(x.device), upper.to(x.device), s, rng),
                )
            )
    else:
        tokenizer = Retokenizer(target.vocab)
        mask = word_like(target.vocab)
        ids = x.cpu().numpy()
        for kind, levels in SEVERITIES["text"].items():
            for s in _strongest(levels, options.natural_levels):
                new = tokenizer.perturb(ids, TEXT_OPERATIONS[kind], s, rng, mask)
                out.append((kind, s, torch.from_numpy(new).to(x.device)))
    return out


def natural_perturbations(
    target: Target,
    ids: np.ndarray,
    labels: np.ndarray,
    options: RobustnessConfig,
    rng: np.random.Generator,
) -> list[dict]:
    """Accuracy under each natural perturbation, overall and per group."""
    x = target.data[torch.from_numpy(ids)].to(target.device)
    y = labels[ids]
    sensitive = None if target.sensitive is None else target.sensitive.iloc[ids]
    sensitive = None if sensitive is None else sensitive.reset_index(drop=True)
    masks = group_masks(sensitive, len(ids))
    clean = target.predict_logits(x).argmax(axis=1) == y
    rows = []
    for kind, severity, inputs in perturbed_inputs(target, x, options, rng):
        correct = target.predict_logits(inputs).argmax(axis=1) == y
        for attribute, group, mask in masks:
            acc = proportion(correct[mask], options.confidence)
            base = float(clean[mask].mean()) if mask.any() else float("nan")
            rows.append(
                {
                    "perturbation": kind,
                    "severity": float(severity),
                    "attribute": attribute,
                    "group": group,
                    "n": acc["n"],
                    "accuracy": acc["value"],
                    "ci_low": acc["ci_low"],
                    "ci_high": acc["ci_high"],
                    "clean_accuracy": base,
                    "drop": base - acc["value"],
                }
            )
    return rows
