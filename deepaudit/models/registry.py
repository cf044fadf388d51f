"""The model registry: a decorator registers each reference model with its spec.

In the manner of timm: every reference model is a recipe class (how to train it, how
to rebuild it and its evaluation data from a checkpoint, how to measure it) that a
decorator registers with a small frozen :class:`ModelSpec`. ``list_models`` and
``get_model_spec`` read the registry; tests are parametrised over ``list_models()``, so
a new model is tested by being registered.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from deepaudit.errors import (
    UNKNOWN_NAME_MESSAGE,
    UnknownModelError,
    ValidationError,
    close_names_hint,
)

if TYPE_CHECKING:
    from deepaudit.models.recipes.base import Recipe

DUPLICATE_MESSAGE = "A reference model named {name!r} is already registered."
FLOOR_DIRECTION_MESSAGE = "A quality floor's direction must be 'min' or 'max'. Got {got!r}."


@dataclass(frozen=True)
class Floor:
    """A quality bound a model must meet on its held-out data.

    ``direction="min"``: the metric must be at least ``bound``; ``"max"``: at most.
    """

    metric: str
    bound: float
    direction: str = "min"
    description: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("min", "max"):
            raise ValidationError(FLOOR_DIRECTION_MESSAGE.format(got=self.direction))

    def is_met(self, value: float) -> bool:
        return value >= self.bound if self.direction == "min" else value <= self.bound

    def __str__(self) -> str:
        return f"{self.metric} {'≥' if self.direction == 'min' else '≤'} {self.bound:g}"


@dataclass(frozen=True)
class ModelSpec:
    """What a reference model is, in a few fields (shown by ``zoo_table`` and the cards)."""

    name: str
    kind: str  # "classifier", "autoencoder" or "generator"
    modality: str  # "image", "text" or "tabular"
    dataset: str
    licence: str
    description: str
    architecture: str
    floors: tuple[Floor, ...] = ()
    sensitive: tuple[str, ...] = ()
    planted_cues: str = ""
    limitations: str = ""
    depends_on: tuple[str, ...] = field(default=())
    demo: bool = True  # audited by `deepaudit demo`; False for helper models


_REGISTRY: dict[str, type[Recipe]] = {}

R = TypeVar("R")


def register_model(spec: ModelSpec):
    """Class decorator: register a recipe class under ``spec.name`` and attach ``spec``."""

    def decorate(cls: type[R]) -> type[R]:
        if spec.name in _REGISTRY:
            raise ValidationError(DUPLICATE_MESSAGE.format(name=spec.name))
        cls.spec = spec  # type: ignore[attr-defined]
        _REGISTRY[spec.name] = cls  # type: ignore[assignment]
        return cls

    return decorate


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered reference models matching a shell-style ``pattern``."""
    _ensure_loaded()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_recipe(name: str) -> Recipe:
    """A fresh recipe object for ``name``; unknown names raise with the close ones."""
    _ensure_loaded()
    if not isinstance(name, str) or name not in _REGISTRY:
        known = sorted(_REGISTRY)
        raise UnknownModelError(
            UNKNOWN_NAME_MESSAGE.format(
                what="model", name=name, hint=close_names_hint(str(name), known)
            )
        )
    return _REGISTRY[name]()


def get_model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered model."""
    return get_recipe(name).spec


def _ensure_loaded() -> None:
    # The recipes register themselves on import; importing here keeps the registry
    # importable on its own without a circular import.
    import deepaudit.models.recipes  # noqa: F401


def training_order(names: list[str]) -> list[str]:
    """``names`` ordered so each model comes after the models it depends on."""
    _ensure_loaded()
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValidationError(f"Reference models depend on each other in a cycle: {path}.")
        for dependency in _REGISTRY[name].spec.depends_on:
            visit(dependency, (*path, name))
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered
