"""A query-only attack: Square (Andriushchenko et al., 2020), L∞, batched torch.

It never reads a gradient, only the model's outputs, so a model that hides its
gradients (a non-differentiable step, saturated outputs) cannot fool it. When it breaks
samples that PGD left standing at the same ε, the white-box numbers are not to be
trusted (AutoAttack runs it for this reason).

On images it changes square windows of pixels (all rows of a window get one random
sign per channel); on any other input (tabular rows, token embeddings) it changes a
random subset of the free coordinates. A proposal is kept when it raises the loss
(the margin of the best other class over the true one, for classifiers).
"""

from __future__ import annotations

import math

import torch

from deepaudit.audit.robustness.attacks import AttackResult, project
from deepaudit.audit.robustness.objectives import Objective
from deepaudit.audit.robustness.space import AttackSpace

P_INIT = 0.1
_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def fraction_changed(iteration: int, budget: int, p_init: float = P_INIT) -> float:
    """The share of coordinates changed at ``iteration``: Square's schedule for 10,000
    queries (halved at 10, 50, 200, ... queries), stretched over ``budget``."""
    scaled = int(iteration / budget * 10_000)
    return p_init / 2 ** sum(scaled > h for h in _HALVINGS)


def _signs(shape: tuple[int, ...], generator: torch.Generator, device) -> torch.Tensor:
    return (torch.randint(0, 2, shape, generator=generator) * 2 - 1).float().to(device)


def square_attack(
    space: AttackSpace,
    rows: torch.Tensor,
    objective: Objective,
    eps: float,
    *,
    budget: int = 100,
    generator: torch.Generator | None = None,
    image: bool = False,
) -> AttackResult:
    """Square's random search within the L∞ ball of radius ``eps`` (scaled units).

    ``budget`` counts model queries per sample (the first is the initial point); a
    sample stops querying once it succeeds.
    """
    generator = generator or torch.Generator().manual_seed(0)
    n = len(rows)
    device = space.x0.device
    shape = (n, *space.x0.shape[1:])
    lower, upper = space.bounds(rows)
    free = space.free(rows)
    eps_t = torch.full((n, *([1] * (len(shape) - 1))), float(eps), device=device)
    if image:  # vertical stripes: one sign per channel and column
        init = _signs((n, shape[1], 1, shape[3]), generator, device).expand(shape)
    else:
        init = _signs(shape, generator, device)
    eta = project(init * eps_t * free, eps_t, "Linf", lower, upper)
    with torch.no_grad():
        loss, success = objective(space.forward(eta, rows), rows)
    for query in range(1, budget):
        active = (~success).nonzero()[:, 0]
        if len(active) == 0:
            break
        p = fraction_changed(query, budget)
        m = len(active)
        if image:
            height, width = shape[2], shape[3]
            side = max(1, min(height - 1, round(math.sqrt(p * height * width))))
            top = torch.randint(0, height - side + 1, (m,), generator=generator).to(device)
            left = torch.randint(0, width - side + 1, (m,), generator=generator).to(device)
            ys = torch.arange(height, device=device)
            xs = torch.arange(width, device=device)
            inside_y = (ys[None, :] >= top[:, None]) & (ys[None, :] < top[:, None] + side)
            inside_x = (xs[None, :] >= left[:, None]) & (xs[None, :] < left[:, None] + side)
            window = (inside_y[:, :, None] & inside_x[:, None, :])[:, None]
            values = _signs((m, shape[1], 1, 1), generator, device)
        else:
            window = torch.rand((m, *shape[1:]), generator=generator).to(device) < p
            window &= free[active] > 0
            values = _signs((m, *shape[1:]), generator, device)
        proposal = torch.where(window, values * eps_t[active], eta[active])
        proposal = project(
            proposal * free[active], eps_t[active], "Linf", lower[active], upper[active]
        )
        with torch.no_grad():
            new_loss, new_success = objective(space.forward(proposal, rows[active]), rows[active])
        better = new_loss > loss[active]
        keep = active[better]
        eta[keep] = proposal[better]
        loss[keep] = new_loss[better]
        success[keep] = new_success[better]
    return AttackResult(eta, success, loss)
