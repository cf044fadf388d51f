"""A classification problem under attack, whoever the classifier is.

The target's classifier, and a GAN's discriminator telling real from generated
samples, are attacked the same way: each threat model swept over its ε grid, input
gradients checked for zeros, and a query-only attack run where PGD left samples
standing. :func:`attack_problem` does all of it; the tables and findings are built
from what it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from deepaudit.audit.robustness.attacks import AttackResult, input_gradients
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.objectives import misclassification
from deepaudit.audit.robustness.query import square_attack
from deepaudit.audit.robustness.space import AttackSpace
from deepaudit.audit.robustness.stats import wilson
from deepaudit.audit.robustness.sweep import Sweep, attack_in_batches, sweep


@dataclass
class Problem:
    """What to attack: one space per threat model over the same samples, their labels,
    the groups they belong to and how to speak of them.

    ``subject`` names what is measured ("accuracy", "the discriminator's accuracy");
    ``limited`` says what an attack may not touch (tabular: only some features move).
    """

    modality: str
    spaces: dict[str, AttackSpace]
    labels: torch.Tensor
    n_classes: int
    sensitive: pd.DataFrame | None
    sample_ids: np.ndarray
    batch_size: int
    subject: str = "accuracy"
    limited: str = ""

    @property
    def n(self) -> int:
        return len(self.labels)


@dataclass
class Attacks:
    """Everything the attacks found on a :class:`Problem`."""

    sweeps: dict[str, Sweep]
    max_gradient: np.ndarray  # per correctly classified sample (in order)
    query_broken: int = 0
    query_tried: int = 0
    query_standing: int = 0
    query_epsilon: float = float("nan")

    @property
    def first(self) -> Sweep:
        return next(iter(self.sweeps.values()))

    def query_gain(self, n: int, confidence: float) -> tuple[float, float]:
        """Estimated share of all attacked samples the query-only attack adds to PGD's
        breaks (its rate on the samples it tried, times the share standing), and the
        lower end of its Wilson interval."""
        if self.query_tried == 0 or n == 0:
            return 0.0, 0.0
        standing = self.query_standing / n
        low, _ = wilson(self.query_broken, self.query_tried, confidence)
        return self.query_broken / self.query_tried * standing, low * standing


def attack_problem(
    problem: Problem,
    options: RobustnessConfig,
    grids: dict[str, tuple[float, ...]],
    generator: torch.Generator,
    tick: Callable[[str], None],
) -> Attacks:
    """Sweep every threat model, check gradients, run the query-only attack."""
    objective = misclassification(problem.labels, options.loss)
    sweeps = {
        norm: sweep(
            space, objective, norm, grids[norm], options, generator, problem.batch_size, tick
        )
        for norm, space in problem.spaces.items()
    }
    first_norm = next(iter(problem.spaces))
    space = problem.spaces[first_norm]
    correct = torch.from_numpy(sweeps[first_norm].correct).to(space.x0.device)
    correct_rows = torch.arange(problem.n, device=space.x0.device)[correct]
    tick("gradients")
    margin = misclassification(problem.labels, "margin")
    gradients = [
        input_gradients(space, correct_rows[s : s + problem.batch_size], margin)
        for s in range(0, len(correct_rows), problem.batch_size)
    ]
    max_gradient = torch.cat(gradients).cpu().numpy() if gradients else np.zeros(0)
    attacks = Attacks(sweeps, max_gradient)
    if "Linf" in sweeps and options.query_samples > 0:
        linf = sweeps["Linf"]
        k = reference_index(linf.grid, options)
        standing = np.flatnonzero(linf.robust(k))
        tried = standing[: options.query_samples]
        attacks.query_standing = len(standing)
        attacks.query_tried = len(tried)
        attacks.query_epsilon = linf.grid[k]
        if len(tried):
            tick("query-only attack")
            rows = torch.from_numpy(tried).to(space.x0.device)

            def attack(part: torch.Tensor, _eps) -> AttackResult:
                return square_attack(
                    problem.spaces["Linf"],
                    part,
                    margin,
                    linf.grid[k],
                    budget=options.query_budget,
                    generator=generator,
                    image=problem.modality == "image",
                )

            result = attack_in_batches(attack, rows, problem.batch_size)
            attacks.query_broken = int(result.success.sum())
    return attacks
