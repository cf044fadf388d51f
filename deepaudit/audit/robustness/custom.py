"""Registered attacks run on an attacked problem (see :mod:`.registry`).

Each attack sees the model's inputs; what it returns is mapped back to the attack space
(η), projected into the ε-ball and the valid box there, and scored like PGD: accuracy
under attack per ε, overall and per group, into the ``curve`` table.
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.robustness.attacks import project
from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.problem import Attacks, Problem
from deepaudit.audit.robustness.registry import registered_attacks
from deepaudit.audit.robustness.tables import accuracy_rows
from deepaudit.errors import ValidationError

WRONG_SHAPE_MESSAGE = (
    "The attack {name!r} returned {got} for inputs of shape {expected}: it must return "
    "the adversarial inputs, shaped like its inputs."
)


def custom_attack_rows(
    problem: Problem, attacks: Attacks, options: RobustnessConfig, seed: int
) -> list[dict]:
    """Curve rows of every registered attack that fits the problem."""
    rows = []
    for attack in registered_attacks().values():
        if problem.modality not in attack.modalities:
            continue
        norm = next((n for n in problem.spaces if n in attack.norms), None)
        if norm is None:
            continue
        space = problem.spaces[norm]
        correct = attacks.sweeps[norm].correct
        for k, eps in enumerate(attacks.sweeps[norm].grid):
            standing = _standing(attack, space, problem, norm, float(eps), seed + k)
            robust = correct & standing
            rows += accuracy_rows(
                attack.name, norm, eps, robust, correct, problem.sensitive, options.confidence
            )
    return rows


def _standing(attack, space, problem: Problem, norm: str, eps: float, seed: int) -> np.ndarray:
    """Whether each attacked sample is still classified right after the attack."""
    out = []
    for start in range(0, problem.n, problem.batch_size):
        rows = torch.arange(
            start, min(problem.n, start + problem.batch_size), device=space.x0.device
        )
        x0 = space.x0[rows]
        scale = space._take(space.scale, rows)

        def forward(x: torch.Tensor, _rows=rows) -> torch.Tensor:
            return space.model(x, _rows)

        adversarial = attack.compute(
            forward, x0.detach().clone(), problem.labels[rows], eps, scale, norm, int(seed)
        )
        adversarial = torch.as_tensor(adversarial, dtype=x0.dtype, device=x0.device).detach()
        if adversarial.shape != x0.shape:
            raise ValidationError(
                WRONG_SHAPE_MESSAGE.format(
                    name=attack.name,
                    got=f"shape {tuple(adversarial.shape)}",
                    expected=tuple(x0.shape),
                )
            )
        safe = torch.where(scale > 0, scale, torch.ones_like(scale))
        eta = torch.where(scale > 0, (adversarial - x0) / safe, torch.zeros_like(x0))
        lower, upper = space.bounds(rows)
        eta = project(eta, torch.tensor(eps, device=x0.device), norm, lower, upper)
        with torch.no_grad():
            predicted = space.forward(eta, rows).argmax(dim=1)
        out.append((predicted == problem.labels[rows]).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)
