"""Rows of the robustness tables: accuracy per ε, flipping ε and gaps, overall and per group.

Every number comes with its interval: Wilson for proportions, percentile bootstrap for
medians and gaps. Groups are those of the target's sensitive attributes; the gap
between groups is in the share of *correctly classified* samples that survive the
attack (robustness bias, Nanda et al. 2021), which does not mix robustness up with
clean accuracy, and in plain robust accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.problem import Attacks
from deepaudit.audit.robustness.stats import (
    bootstrap_median,
    group_masks,
    largest_gap,
    median,
    proportion,
)
from deepaudit.audit.robustness.sweep import Sweep


def accuracy_rows(
    attack: str,
    norm: str,
    epsilon: float,
    robust: np.ndarray,
    correct: np.ndarray,
    sensitive: pd.DataFrame | None,
    confidence: float,
) -> list[dict]:
    """Accuracy under attack and the attack's success rate (among correctly classified
    samples), overall and per group."""
    rows = []
    for attribute, group, mask in group_masks(sensitive, len(robust)):
        acc = proportion(robust[mask], confidence)
        success = proportion(~robust[mask & correct], confidence)
        rows.append(
            {
                "attack": attack,
                "norm": norm,
                "epsilon": float(epsilon),
                "attribute": attribute,
                "group": group,
                "n": acc["n"],
                "accuracy": acc["value"],
                "ci_low": acc["ci_low"],
                "ci_high": acc["ci_high"],
                "n_correct": success["n"],
                "success_rate": success["value"],
                "success_ci_low": success["ci_low"],
                "success_ci_high": success["ci_high"],
            }
        )
    return rows


def curve_rows(attacks: Attacks, sensitive, confidence: float) -> list[dict]:
    """PGD at ε = 0 and every grid ε of every norm; FGSM likewise for L∞."""
    rows = []
    for norm, sw in attacks.sweeps.items():
        correct = sw.correct
        for k, eps in enumerate((0.0, *sw.grid)):
            robust = sw.robust(k - 1)
            rows += accuracy_rows("PGD", norm, eps, robust, correct, sensitive, confidence)
        if sw.fgsm_broken:
            rows += accuracy_rows("FGSM", norm, 0.0, correct, correct, sensitive, confidence)
            for eps, broken in sw.fgsm_broken.items():
                robust = correct & ~broken
                rows += accuracy_rows("FGSM", norm, eps, robust, correct, sensitive, confidence)
    return rows


def flip_rows(
    sw: Sweep, sensitive, rng: np.random.Generator, options: RobustnessConfig
) -> list[dict]:
    """Median smallest flipping ε of the correctly classified samples, per group."""
    rows = []
    for attribute, group, mask in group_masks(sensitive, len(sw.broken_at)):
        values = sw.flip_epsilon[mask & sw.correct]
        low, high = bootstrap_median(values, rng, options.n_bootstrap, options.confidence)
        rows.append(
            {
                "norm": sw.norm,
                "attribute": attribute,
                "group": group,
                "n_correct": len(values),
                "median": median(values),
                "ci_low": low,
                "ci_high": high,
                "n_unbroken": int(np.sum(np.isinf(values))),
                "large_epsilon": sw.large_epsilon,
            }
        )
    return rows


def gap_rows(
    sw: Sweep, sensitive, rng: np.random.Generator, options: RobustnessConfig
) -> list[dict]:
    """For each attribute at the reference ε: the largest gap between groups in survival
    (among correctly classified samples) and in robust accuracy."""
    if sensitive is None:
        return []
    k = reference_index(sw.grid, options)
    robust = sw.robust(k)
    rows = []
    for attribute in sensitive.columns:
        values = sensitive[attribute].astype(str).to_numpy()
        names = sorted(set(values))
        measures = {
            "survival": {g: robust[(values == g) & sw.correct] for g in names},
            "robust_accuracy": {g: robust[values == g] for g in names},
        }
        for metric, per_group in measures.items():
            gap = largest_gap(
                per_group, rng, options.n_bootstrap, options.confidence, options.min_group_size
            )
            if gap is None:
                continue
            worst = (values == gap["worst_group"]) & sw.correct
            best = (values == gap["best_group"]) & sw.correct
            rows.append(
                {
                    "norm": sw.norm,
                    "epsilon": sw.grid[k],
                    "attribute": str(attribute),
                    "metric": metric,
                    **gap,
                    "worst_median_flip": median(sw.flip_epsilon[worst]),
                    "best_median_flip": median(sw.flip_epsilon[best]),
                }
            )
    return rows


def fmt_eps(eps: float) -> str:
    if math.isinf(eps):
        return "∞"
    return f"{eps:.3g}"
