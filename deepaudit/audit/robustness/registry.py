"""Attacks and natural perturbations of your own, run by the robustness family.

An attack is a function from a batch to its adversarial version::

    import deepaudit as da

    @da.register_attack("random_sign", label="Random-sign noise")
    def random_sign(forward, inputs, labels, epsilon, scale, norm, seed):
        g = torch.Generator().manual_seed(seed)
        signs = torch.randint(0, 2, inputs.shape, generator=g).to(inputs) * 2 - 1
        return inputs + epsilon * scale * signs

The family runs it on the attacked samples at every ε of the first threat model it
supports, projects what it returns into the ε-ball and the valid input box (an attack
cannot claim a larger perturbation than allowed), and adds its accuracy under attack
per ε and group to the ``curve`` table, graded at the reference ε against
``RobustnessConfig.min_robust_accuracy``, so it shows in the report and the dashboard
with no other change.

A natural perturbation is a function of a batch, a severity and a numpy generator::

    @da.register_perturbation("dim", severities=(0.1, 0.3, 0.5), modalities=("image",))
    def dim(inputs, severity, rng):
        return inputs * (1 - severity)

It is scored beside the built-in corruptions (``natural`` table) and can be the most
damaging one the natural-perturbation finding names. This module imports nothing
heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deepaudit.errors import parameter_error
from deepaudit.plugins import load_plugins

#: Attacks the family runs itself (their names are taken).
BUILTIN_ATTACKS = ("PGD", "FGSM", "Square", "word substitution")
MODALITIES = ("image", "tabular")
NORMS = ("Linf", "L2")


@dataclass(frozen=True)
class Attack:
    """A registered attack (see the module docstring for its protocol)."""

    name: str
    label: str
    compute: Callable
    modalities: tuple[str, ...]
    norms: tuple[str, ...]


@dataclass(frozen=True)
class Perturbation:
    """A registered natural perturbation: ``compute(inputs, severity, rng)``."""

    name: str
    compute: Callable
    severities: tuple[float, ...]
    modalities: tuple[str, ...]


_ATTACKS: dict[str, Attack] = {}
_PERTURBATIONS: dict[str, Perturbation] = {}


def list_attacks() -> list[str]:
    """The registered attacks' names (the built-in ones are :data:`BUILTIN_ATTACKS`)."""
    load_plugins()
    return list(_ATTACKS)


def registered_attacks() -> dict[str, Attack]:
    load_plugins()
    return dict(_ATTACKS)


def list_perturbations() -> list[str]:
    """The registered natural perturbations' names."""
    return list(_PERTURBATIONS)


def registered_perturbations() -> dict[str, Perturbation]:
    load_plugins()
    return dict(_PERTURBATIONS)


def _check_choices(owner: str, name: str, value, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, tuple | list) or not value or not all(v in allowed for v in value):
        raise parameter_error(
            name, owner, "a non-empty tuple of " + ", ".join(map(repr, allowed)), value
        )
    return tuple(value)


def register_attack(
    name: str,
    compute: Callable | None = None,
    *,
    label: str | None = None,
    modalities: tuple[str, ...] = MODALITIES,
    norms: tuple[str, ...] = NORMS,
) -> Callable:
    """Add an attack (usable as a decorator); returns ``compute``.

    ``compute(forward, inputs, labels, epsilon, scale, norm, seed)`` receives the model's
    differentiable logits ``forward(x)``, a batch of clean ``inputs`` (N × input shape,
    on the model's device), their true ``labels`` (long, N), the budget ``epsilon`` (a
    float in the family's scaled units), ``scale`` (a tensor broadcastable to the inputs:
    the input units of one unit of ε per coordinate, 0 where a coordinate may not move),
    the threat model ``norm`` (``"Linf"`` or ``"L2"``, in scaled units) and a seed. It
    returns the adversarial inputs, shaped like ``inputs``.
    """
    owner = "register_attack"
    if not isinstance(name, str) or not name.strip():
        raise parameter_error("name", owner, "a non-empty str", name)
    if name in BUILTIN_ATTACKS:
        raise parameter_error("name", owner, "a name no built-in attack has", name)
    modalities = _check_choices(owner, "modalities", modalities, MODALITIES)
    norms = _check_choices(owner, "norms", norms, NORMS)

    def add(function: Callable) -> Callable:
        if not callable(function):
            raise parameter_error("compute", owner, "a function (see its docstring)", function)
        _ATTACKS[name] = Attack(name, label or name, function, modalities, norms)
        return function

    return add if compute is None else add(compute)


def register_perturbation(
    name: str,
    compute: Callable | None = None,
    *,
    severities: tuple[float, ...],
    modalities: tuple[str, ...] = ("image",),
) -> Callable:
    """Add a natural perturbation (usable as a decorator); returns ``compute``.

    ``compute(inputs, severity, rng)`` receives a batch of inputs (a tensor on the model's
    device), one of ``severities`` (mild to strong; the family scores the strongest
    ``natural_levels`` of them) and a seeded ``numpy.random.Generator``, and returns the
    perturbed batch, shaped like ``inputs``.
    """
    owner = "register_perturbation"
    if not isinstance(name, str) or not name.strip():
        raise parameter_error("name", owner, "a non-empty str", name)
    if (
        not isinstance(severities, tuple | list)
        or not severities
        or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in severities)
    ):
        raise parameter_error("severities", owner, "a non-empty tuple of numbers", severities)
    modalities = _check_choices(owner, "modalities", modalities, ("image", "tabular", "text"))

    def add(function: Callable) -> Callable:
        if not callable(function):
            raise parameter_error(
                "compute", owner, "a function of (inputs, severity, rng)", function
            )
        _PERTURBATIONS[name] = Perturbation(
            name, function, tuple(float(s) for s in severities), modalities
        )
        return function

    return add if compute is None else add(compute)


def unregister_attack(name: str) -> None:
    _ATTACKS.pop(name, None)


def unregister_perturbation(name: str) -> None:
    _PERTURBATIONS.pop(name, None)
