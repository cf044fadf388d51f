"""The registry of audit families that ``run_audit`` can run.

A family is a function from a Target and the family's own config to a FamilyResult,
plus the config dataclass it takes and a check of which targets it applies to. Each
family module registers itself with :func:`register_family`; ``run_audit`` and
``AuditConfig`` know families only through this registry, so a new family plugs in
without touching either.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepaudit.errors import UNKNOWN_NAME_MESSAGE, UnknownNameError, close_names_hint

if TYPE_CHECKING:
    from deepaudit.audit.target import Target
    from deepaudit.results import FamilyResult


@dataclass(frozen=True)
class FamilySpec:
    """How to run one audit family.

    ``applies_to(target)`` returns ``None`` when the family can run on the target, or a
    sentence saying why not; ``run(target, options, seed)`` does the work.
    """

    name: str
    config_class: type
    run: Callable[[Target, Any, int], FamilyResult]
    applies_to: Callable[[Target], str | None]
    description: str = ""
    #: Optional ``validate(target, options)``: raises a ValidationError when the options
    #: do not fit the target (e.g. an unknown attribute); run_audit calls it for every
    #: family before any family runs.
    validate: Callable[[Target, Any], Any] | None = None
    #: Whether ``run`` reads every row of a streaming target batch by batch. A family
    #: that does not is given the target's in-memory sample of rows instead.
    streams: bool = False


_FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    _FAMILIES[spec.name] = spec
    return spec


#: Modules whose import registers the built-in families, in the order audits run them.
BUILTIN_FAMILY_MODULES = ("overview", "explain", "fairness", "robustness", "generative")


def _load_builtin_families() -> None:
    for module in BUILTIN_FAMILY_MODULES:
        importlib.import_module(f"deepaudit.audit.{module}")


def list_families() -> list[str]:
    """Names of the registered audit families, in registration order."""
    _load_builtin_families()
    return list(_FAMILIES)


def get_family(name: str) -> FamilySpec:
    _load_builtin_families()
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UnknownNameError(
            UNKNOWN_NAME_MESSAGE.format(
                what="audit family", name=name, hint=close_names_hint(name, list(_FAMILIES))
            )
        ) from None
