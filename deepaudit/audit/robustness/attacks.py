"""White-box attacks: PGD (L∞ and L2) in plain batched torch, FGSM through captum.

``captum.robust.FGSM`` is used as it is. captum's PGD does not fit the audit: it runs
one radius for the whole batch (the minimal-ε search needs one per sample), returns
the last iterate rather than the first adversarial point (no early stopping, no
restarts), takes sign steps under L2 as well, and clamps to scalar bounds only. So PGD
is written here, batched, on the target's device; with ``mode="last"`` and no random
start it is the textbook algorithm and agrees with ART's and captum's (see the tests).

Every attack works on an :class:`~deepaudit.audit.robustness.space.AttackSpace`:
perturbations ``η`` in scaled units, per-sample radii ``eps``, the box of valid inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from captum.robust import FGSM

from deepaudit.audit.robustness.objectives import Objective
from deepaudit.audit.robustness.space import AttackSpace

MODES = ("early_stop", "last", "best")
_TINY = 1e-12


@dataclass
class AttackResult:
    """Per sample: the perturbation kept, whether it succeeded, and the objective there."""

    eta: torch.Tensor
    success: torch.Tensor
    loss: torch.Tensor


def _per_sample(eps: torch.Tensor | float, n: int, ndim: int, device) -> torch.Tensor:
    e = torch.as_tensor(eps, dtype=torch.float32, device=device)
    if e.ndim == 0:
        e = e.expand(n)
    return e.reshape(n, *([1] * (ndim - 1)))


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).reshape(-1, *([1] * (t.ndim - 1)))


def project(eta: torch.Tensor, eps: torch.Tensor, norm: str, lower, upper) -> torch.Tensor:
    """Clip ``η`` into the box, then into the ε-ball (as ART does; both sets contain 0,
    so rescaling towards 0 keeps the box)."""
    eta = torch.maximum(torch.minimum(eta, upper), lower)
    if norm == "Linf":
        return torch.maximum(torch.minimum(eta, eps), -eps)
    return eta * torch.clamp(eps / (_flat_norm(eta) + _TINY), max=1.0)


def random_start(
    shape: tuple[int, ...], eps: torch.Tensor, norm: str, generator: torch.Generator, device
) -> torch.Tensor:
    """A uniform random point of the ε-ball, drawn on the CPU so that a seed gives the same
    start on every device."""
    if norm == "Linf":
        u = torch.rand(shape, generator=generator) * 2 - 1
        return u.to(device) * eps
    direction = torch.randn(shape, generator=generator)
    direction = direction / (_flat_norm(direction) + _TINY)
    d = math.prod(shape[1:])
    radius = torch.rand(shape[0], generator=generator) ** (1.0 / d)
    radius = radius.reshape(-1, *([1] * (len(shape) - 1)))
    return (direction * radius).to(device) * eps


def pgd(
    space: AttackSpace,
    rows: torch.Tensor,
    objective: Objective,
    eps: torch.Tensor | float,
    *,
    norm: str = "Linf",
    steps: int = 10,
    relative_step_size: float = 0.25,
    restarts: int = 1,
    random_init: bool = False,
    mode: str = "early_stop",
    generator: torch.Generator | None = None,
    init: torch.Tensor | None = None,
) -> AttackResult:
    """Projected gradient ascent on ``objective`` within ε of the clean points ``rows``.

    Parameters
    ----------
    space, rows
        Where to move, and which of its samples to attack.
    objective
        Maps the model's output to (loss to climb, success) per sample.
    eps
        One radius for all, or one per sample (scaled units).
    norm
        ``"Linf"`` (sign steps, coordinate clip) or ``"L2"`` (normalised-gradient steps,
        rescaling).
    steps, relative_step_size
        Iterations, and the step as a fraction of each sample's ε.
    restarts, random_init
        Independent runs, each from a random point of the ball when ``random_init``
        (the first run starts at the clean point otherwise).
    mode
        ``"early_stop"``: a sample stops at its first successful iterate (the cheapest,
        and the strongest: an adversarial point once found is kept); ``"last"``: the
        final iterate, as ART and captum return; ``"best"``: the iterate with the highest
        loss (for objectives without a success, such as moving a score).
    generator
        Seeded CPU generator for the random starts.
    init
        Where the first run starts (projected into the ball and box), e.g. the
        perturbation that broke the sample at a larger ε: often still adversarial at the
        smaller one, and a better start than a random point when it is not.
    """
    n = len(rows)
    device = space.x0.device
    shape = (n, *space.x0.shape[1:])
    eps_full = _per_sample(eps, n, len(shape), device)
    lower, upper = space.bounds(rows)
    free = space.free(rows)
    best_eta = space.zeros(rows)
    best_loss = torch.full((n,), -math.inf, device=device)
    success = torch.zeros(n, dtype=torch.bool, device=device)
    generator = generator or torch.Generator().manual_seed(0)
    for restart in range(restarts):
        active = torch.arange(n, device=device)
        if mode == "early_stop":
            active = active[~success]
        if len(active) == 0:
            break
        if init is not None and restart == 0:
            eta = project(init.to(device) * free, eps_full, norm, lower, upper)
        elif random_init or restart > 0:
            start = random_start(shape, eps_full, norm, generator, device) * free
            eta = project(start, eps_full, norm, lower, upper)
        else:
            eta = space.zeros(rows)
        # Per-run copies of what the active samples need, shrunk only when samples leave.
        eta, eps_a, lo_a, hi_a, rows_a = (t[active] for t in (eta, eps_full, lower, upper, rows))
        run_success = torch.zeros(n, dtype=torch.bool, device=device)
        for step in range(steps + 1):
            last = step == steps
            eta = eta.detach().requires_grad_(not last)
            with torch.set_grad_enabled(not last):
                loss, hit = objective(space.forward(eta, rows_a), rows_a)
            if mode == "best":
                better = loss.detach() > best_loss[active]
                best_loss[active] = torch.where(better, loss.detach(), best_loss[active])
                best_eta[active[better]] = eta.detach()[better]
                success[active[hit & better]] = True
            elif mode == "early_stop" and hit.any():
                best_eta[active[hit]] = eta.detach()[hit]
                best_loss[active[hit]] = loss.detach()[hit]
                success[active[hit]] = True
            if mode == "last" and last:
                won = hit & ~success[active] if restart > 0 else torch.ones_like(hit)
                best_eta[active[won]] = eta.detach()[won]
                best_loss[active[won]] = loss.detach()[won]
                run_success[active] = hit
            if last:
                break
            (grad,) = torch.autograd.grad(loss.sum(), eta)
            with torch.no_grad():
                if mode == "early_stop" and hit.any():
                    keep = ~hit
                    eta, grad, active = eta[keep], grad[keep], active[keep]
                    eps_a, lo_a, hi_a, rows_a = eps_a[keep], lo_a[keep], hi_a[keep], rows_a[keep]
                    if len(active) == 0:
                        break
                direction = grad.sign() if norm == "Linf" else grad / (_flat_norm(grad) + _TINY)
                eta = project(eta + relative_step_size * eps_a * direction, eps_a, norm, lo_a, hi_a)
        if mode == "last":
            success |= run_success
    return AttackResult(best_eta.detach(), success, best_loss)


def input_gradients(space: AttackSpace, rows: torch.Tensor, objective: Objective) -> torch.Tensor:
    """Largest absolute gradient of the objective with respect to η, at the clean points
    (a zero here means gradient attacks cannot move the sample)."""
    eta = space.zeros(rows).requires_grad_(True)
    with torch.enable_grad():
        loss, _ = objective(space.forward(eta, rows), rows)
        (grad,) = torch.autograd.grad(loss.sum(), eta)
    return grad.detach().abs().flatten(1).max(dim=1).values


def fgsm(space: AttackSpace, rows: torch.Tensor, objective: Objective, eps: float) -> AttackResult:
    """One signed-gradient step of size ε (``captum.robust.FGSM``), clipped into the box."""
    lower, upper = space.bounds(rows)
    attack = FGSM(
        lambda eta: space.forward(eta, rows),
        loss_func=lambda output, target_rows: objective(output, target_rows)[0],
        lower_bound=lower,
        upper_bound=upper,
    )
    with torch.enable_grad():
        start = space.zeros(rows).requires_grad_(True)
        eta = attack.perturb(start, epsilon=float(eps), target=rows)
    eta = eta.detach()
    with torch.no_grad():
        loss, success = objective(space.forward(eta, rows), rows)
    return AttackResult(eta, success, loss)


def evaluate(
    space: AttackSpace, rows: torch.Tensor, objective: Objective, eta: torch.Tensor | None = None
) -> AttackResult:
    """The objective and success at ``η`` (default: the clean points), without gradients."""
    eta = space.zeros(rows) if eta is None else eta
    with torch.no_grad():
        loss, success = objective(space.forward(eta, rows), rows)
    return AttackResult(eta, success, loss)
