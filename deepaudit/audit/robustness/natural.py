"""Natural perturbations scored: accuracy under each corruption of the target's modality
(see :mod:`deepaudit.audit.robustness.corruptions`), overall and per group, with a
finding on the most damaging one.
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
from deepaudit.audit.robustness.findings import graded_finding
from deepaudit.audit.robustness.space import mutable_columns
from deepaudit.audit.robustness.stats import group_masks, proportion
from deepaudit.audit.robustness.words import word_like
from deepaudit.audit.target import Target
from deepaudit.results import Evidence, Finding


def _strongest(levels: tuple[float, ...], count: int) -> tuple[float, ...]:
    """The ``count`` strongest severities (the lists run from mild to strong), mild first."""
    return levels[-count:]


def perturbed_inputs(
    target: Target, x: torch.Tensor, options: RobustnessConfig, rng: np.random.Generator
) -> list[tuple[str, float, torch.Tensor]]:
    """``(kind, severity, inputs)`` for every natural perturbation of ``x``'s modality."""
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
) -> tuple[list[dict], Finding | None]:
    """Accuracy under each natural perturbation, overall and per group, and a finding on
    the worst one. Returns the table rows and the finding (None when nothing ran)."""
    x = target.data[torch.from_numpy(ids)].to(target.device)
    y = labels[ids]
    sensitive = None if target.sensitive is None else target.sensitive.iloc[ids]
    sensitive = None if sensitive is None else sensitive.reset_index(drop=True)
    masks = group_masks(sensitive, len(ids))
    clean = target.predict_logits(x).argmax(axis=1) == y
    rows = []
    worst = None
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
            if attribute == "overall" and (worst is None or rows[-1]["drop"] > worst["drop"]):
                worst = rows[-1]
    if worst is None:
        return rows, None
    # Interval of the drop: the perturbed accuracy's interval, shifted by the clean one.
    low, high = (
        worst["clean_accuracy"] - worst["ci_high"],
        worst["clean_accuracy"] - worst["ci_low"],
    )
    finding = graded_finding(
        "natural_perturbations",
        f"The most damaging natural perturbation, {worst['perturbation'].replace('_', ' ')} "
        f"at severity {worst['severity']:g}, takes accuracy from {worst['clean_accuracy']:.1%} "
        f"to {worst['accuracy']:.1%} [{worst['ci_low']:.1%}, {worst['ci_high']:.1%}] on "
        f"{worst['n']} samples (a drop of {worst['drop']:.1%}; limit {options.max_natural_drop:.0%}).",
        Evidence(
            metric="natural_drop",
            value=worst["drop"],
            interval=(low, high),
            threshold=options.max_natural_drop,
            table="natural",
        ),
        higher_is_worse=True,
    )
    return rows, finding
