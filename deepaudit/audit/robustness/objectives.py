"""What an attack climbs and when it has won, for each kind of model.

An objective maps the model's output on a batch (and the batch's row indices) to a
per-sample loss the attack maximises and a per-sample success flag. Keeping the two
together lets one PGD serve classifiers (flip the label), autoencoders (hide an anomaly,
flag a normal sample) and generators (move the output as far as possible).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Objective = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Best other logit minus the true one: positive exactly when the label flipped."""
    true = logits.gather(1, labels[:, None])[:, 0]
    others = logits.scatter(1, labels[:, None], float("-inf"))
    return others.max(dim=1).values - true


def misclassification(labels: torch.Tensor, loss: str = "ce") -> Objective:
    """Untargeted attack on a classifier: climb cross-entropy (or the margin); success
    when the predicted class differs from ``labels[rows]``."""

    def objective(logits: torch.Tensor, rows: torch.Tensor):
        y = labels[rows]
        gap = margin(logits, y)
        value = gap if loss == "margin" else F.cross_entropy(logits, y, reduction="none")
        return value, gap.detach() > 0

    return objective


def score_shift(threshold: float, direction: int) -> Objective:
    """Autoencoders: push the anomaly score down (``direction=-1``: hide an anomaly,
    success when it falls to the threshold) or up (``+1``: flag a normal sample,
    success when it rises above it)."""

    def objective(score: torch.Tensor, rows: torch.Tensor):
        success = score.detach() <= threshold if direction < 0 else score.detach() > threshold
        return direction * score, success

    return objective


def output_change(reference: torch.Tensor) -> Objective:
    """Generators: the mean squared change of the output from ``reference[rows]``; an
    attack on it never "succeeds", it only looks for the largest change."""

    def objective(output: torch.Tensor, rows: torch.Tensor):
        change = (output - reference[rows]).flatten(1).pow(2).mean(dim=1)
        return change, torch.zeros_like(change, dtype=torch.bool)

    return objective
