"""One threat model swept over its ε grid: who breaks where, and the smallest ε that does.

The sweep runs from the largest ε down. Every correctly classified sample is first
attacked at a very large ε (``large_epsilon_multiple`` × the largest grid ε), where a
sound attack breaks nearly everything (a sanity check), from the clean point and then
from a random one; the samples it breaks are
attacked at the largest grid ε, those broken there at the next smaller one, and so on.
A sample that survives ε is counted robust at every smaller ε (any perturbation allowed
there is allowed at ε), so robust accuracy never rises with ε, and each sample costs one
failed attack plus early-stopped successful ones: far cheaper than attacking every
sample at every ε. Then:

- each attack below the top starts from the perturbation that broke the sample one
  level up (projected into the smaller ball): often still adversarial, else a good start;
- each broken sample's flipping ε is refined by bisection between the ε where it last
  broke and the next smaller one, with one radius per sample in a batched PGD per step,
  until it is known within ``flip_tolerance`` (10 % by default);
- a few samples that survived an ε are attacked again, from scratch, at the next
  smaller one: a sound attack does not break them there (if it does, robust
  accuracy measured independently would rise with ε).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from deepaudit.audit.robustness.attacks import AttackResult, evaluate, fgsm, pgd
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.objectives import Objective
from deepaudit.audit.robustness.space import AttackSpace


def attack_in_batches(
    attack: Callable[[torch.Tensor, torch.Tensor], AttackResult],
    rows: torch.Tensor,
    batch_size: int,
    eps: torch.Tensor | None = None,
) -> AttackResult:
    """Run ``attack(rows, eps)`` over ``rows`` in batches and stitch the results."""
    parts = []
    for start in range(0, len(rows), batch_size):
        part_eps = None if eps is None else eps[start : start + batch_size]
        parts.append(attack(rows[start : start + batch_size], part_eps))
    return AttackResult(
        torch.cat([p.eta for p in parts]),
        torch.cat([p.success for p in parts]),
        torch.cat([p.loss for p in parts]),
    )


@dataclass
class Sweep:
    """Per attacked sample (all of the space's samples, in order).

    ``broken_at``: index of the first grid ε that broke it (-1: wrong before any attack,
    ``len(grid)``: standing at every grid ε). ``flip_epsilon``: the smallest ε found to
    break it (0 when wrong to begin with, inf when the large-ε attack failed too).
    ``flip_low``: the largest ε it was found to stand (the bracket's lower end; the
    flipping ε lies in ``[flip_low, flip_epsilon]``).
    ``eta``: the perturbation that broke it at the smallest ε (zeros otherwise).
    ``non_monotone``: (broken, tried, smaller ε, larger ε) of the re-check.
    """

    norm: str
    grid: tuple[float, ...]
    broken_at: np.ndarray
    flip_epsilon: np.ndarray
    large_epsilon: float
    broken_large: np.ndarray
    eta: torch.Tensor
    non_monotone: tuple[int, int, float, float] = (0, 0, 0.0, 0.0)
    fgsm_broken: dict[float, np.ndarray] = field(default_factory=dict)
    flip_low: np.ndarray | None = None

    def robust(self, k: int) -> np.ndarray:
        """Standing after the attacks up to grid index ``k`` (-1: clean correctness)."""
        return self.broken_at > k

    @property
    def correct(self) -> np.ndarray:
        return self.broken_at >= 0


def sweep(
    space: AttackSpace,
    objective: Objective,
    norm: str,
    grid: tuple[float, ...],
    options: RobustnessConfig,
    generator: torch.Generator,
    batch_size: int,
    tick: Callable[[str], None] = lambda _: None,
) -> Sweep:
    """Attack every sample of ``space`` over ``grid`` (see the module docstring)."""
    device = space.x0.device
    n = space.n
    rows = torch.arange(n, device=device)

    def run(eps, random_init=None, warm=False, restarts=options.restarts):
        def attack(part, part_eps):
            return pgd(
                space,
                part,
                objective,
                eps if part_eps is None else part_eps,
                norm=norm,
                steps=options.steps,
                relative_step_size=options.relative_step_size,
                restarts=restarts,
                random_init=options.random_start if random_init is None else random_init,
                generator=generator,
                init=eta[part] if warm else None,
            )

        return attack

    clean = attack_in_batches(lambda part, _: evaluate(space, part, objective), rows, batch_size)
    wrong = clean.success.cpu().numpy()
    large = grid[-1] * options.large_epsilon_multiple
    levels = (*grid, large)  # index len(grid) is the large ε
    # broken_at: the smallest level broken so far (len(levels): never broken).
    broken_at = np.full(n, len(levels), dtype=np.int64)
    eta = space.zeros(rows)
    candidates = rows[~clean.success]
    survivors: dict[int, torch.Tensor] = {}
    for k in range(len(levels) - 1, -1, -1):
        tick(f"{norm} ε={levels[k]:.3g}")
        if len(candidates) == 0:
            break
        top = k == len(levels) - 1
        # At the large ε a second run from a random point escapes the clean point's local
        # optimum (flat or misleading gradients there); below, runs start from the
        # perturbation found one level up.
        attack = run(
            levels[k], warm=not top, restarts=max(2, options.restarts) if top else options.restarts
        )
        result = attack_in_batches(attack, candidates, batch_size)
        hit = candidates[result.success]
        broken_at[hit.cpu().numpy()] = k
        eta[hit] = result.eta[result.success]
        survivors[k] = candidates[~result.success]
        candidates = hit
    broken_at[wrong] = -1
    broken_large = broken_at == len(grid)
    broken_at = np.minimum(broken_at, len(grid))  # standing at every grid ε, large ε or not
    flip, flip_low = _bisect(
        space, broken_at, broken_large, grid, large, options, run, batch_size, tick, eta
    )
    non_monotone = _recheck(survivors, levels, options, run, batch_size)
    out = Sweep(
        norm, tuple(grid), broken_at, flip, large, broken_large, eta, non_monotone,
        flip_low=flip_low,
    )  # fmt: skip
    if options.fgsm != "none" and norm == "Linf":
        correct_rows = rows[torch.from_numpy(broken_at >= 0).to(device)]
        chosen = grid if options.fgsm == "all" else (grid[reference_index(grid, options)],)
        for eps in chosen:
            tick(f"FGSM ε={eps:.3g}")
            broken = np.zeros(n, dtype=bool)
            if len(correct_rows):
                result = attack_in_batches(
                    lambda part, _, e=eps: fgsm(space, part, objective, e), correct_rows, batch_size
                )
                broken[correct_rows[result.success].cpu().numpy()] = True
            out.fgsm_broken[eps] = broken
    return out


def _bisect(space, broken_at, broken_large, grid, large, options, run, batch_size, tick, eta):
    """Each broken sample's smallest flipping ε, bisected (geometrically) between the
    smallest level that broke it and the next smaller one until the bracket is within
    ``flip_tolerance`` (``high <= (1 + tolerance) · low``) or ``bisection_steps`` are
    spent; the upper end (an ε at which it did break) is kept. A sample broken at the
    smallest grid ε has no lower end yet: its bracket is halved until it stands."""
    n = len(broken_at)
    inside = (broken_at >= 0) & (broken_at < len(grid))
    edges = np.asarray((0.0, *grid), dtype=np.float64)
    low = np.zeros(n)
    high = np.full(n, math.inf)
    low[inside] = edges[broken_at[inside]]
    high[inside] = edges[broken_at[inside] + 1]
    low[broken_large] = grid[-1]
    high[broken_large] = large
    high[broken_at < 0] = 0.0
    broken = np.flatnonzero(inside | broken_large)
    device = space.x0.device
    for step in range(options.bisection_steps):
        todo = broken[high[broken] > (1 + options.flip_tolerance) * low[broken]]
        if len(todo) == 0:
            break
        tick(f"bisection {step + 1} ({len(todo)} samples)")
        mid = np.where(low[todo] > 0, np.sqrt(low[todo] * high[todo]), high[todo] / 2)
        rows = torch.from_numpy(todo).to(device)
        eps = torch.from_numpy(mid.astype(np.float32)).to(device)
        result = attack_in_batches(run(None, warm=True), rows, batch_size, eps)
        hit = result.success.cpu().numpy()
        eta[rows[result.success]] = result.eta[result.success]
        high[todo[hit]] = mid[hit]
        low[todo[~hit]] = mid[~hit]
    return high, low


def _recheck(survivors, levels, options, run, batch_size) -> tuple[int, int, float, float]:
    """Samples that survived the largest level they were attacked at, attacked afresh
    at the next smaller one: how many break there, of how many tried (a
    sound attack breaks none), and the two ε."""
    for k in sorted(survivors, reverse=True):
        if k == 0 or len(survivors[k]) == 0:
            continue
        rows = survivors[k][: options.monotonicity_samples]
        if len(rows) == 0:
            break
        result = attack_in_batches(run(levels[k - 1]), rows, batch_size)
        return int(result.success.sum()), len(rows), levels[k - 1], levels[k]
    return 0, 0, 0.0, 0.0
