"""Frozen, validated settings: the base of ``AuditConfig`` and of every family's config.

A config is checked once, where it is made, against constraints declared as data
(:mod:`deepaudit._validation`), then frozen: its lists become tuples and its dicts
read-only mappings, and assigning a field raises. A config that exists is a valid one,
so the audit never re-checks it and a saved bundle's settings can be rebuilt exactly.

Fields named in ``LIMITS`` only grade (a verdict reads a measurement against them):
``deepaudit regrade`` may change those on a saved bundle; every other field changes
what is measured, and so needs a new audit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Self

from deepaudit._validation import Constraint, check_param, validate_params
from deepaudit.errors import parameter_error


def freeze(value: Any) -> Any:
    """Lists as tuples and dicts as read-only mappings, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain (JSON-able) form of a frozen value: tuples as lists, mappings as dicts."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [thaw(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of every settings object: validated at construction, frozen after.

    Subclasses are ``@dataclass(frozen=True)`` and declare :meth:`constraints` (one entry
    per field); :meth:`check` may add checks across fields.
    """

    #: Fields that only grade (thresholds a verdict is read against).
    LIMITS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def constraints(cls) -> Mapping[str, list[Constraint]]:
        """The constraints of every field, by name."""
        raise NotImplementedError(f"{cls.__name__} declares no constraints")

    @classmethod
    def owner(cls) -> str:
        """The name error messages give this config."""
        return cls.__name__

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        validate_params(self.owner(), values, self.constraints())
        for name, value in values.items():
            object.__setattr__(self, name, freeze(value))
        self.check()

    def check(self) -> None:
        """Checks that involve several fields (raise a ValidationError); none by default."""

    # -- plain data -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data (what a bundle records)."""
        return {f.name: thaw(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str | None = None) -> Self:
        """A config from plain data; an unknown name is an error that lists the known."""
        if not isinstance(values, Mapping):
            raise parameter_error(
                where or "options", cls.owner(), f"a dict of {cls.__name__} fields", values
            )
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            allowed = ", ".join(map(repr, cls.field_names()))
            raise parameter_error(
                where or "options", cls.owner(), f"settings among {allowed}", unknown
            )
        return cls(**dict(values))

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated again."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            allowed = ", ".join(map(repr, self.field_names()))
            raise parameter_error("changes", self.owner(), f"settings among {allowed}", unknown)
        return dataclasses.replace(self, **changes)

    @classmethod
    def with_limits(cls, saved: Mapping[str, Any], limits: Mapping[str, Any]) -> Self:
        """The saved settings with some limits changed (``deepaudit regrade``): a field
        that is not a limit changes what is measured and is refused."""
        budgets = sorted(set(limits) - set(cls.LIMITS))
        if budgets:
            raise parameter_error(
                "limits",
                cls.owner(),
                "limits that only grade ("
                + (", ".join(map(repr, cls.LIMITS)) or "none")
                + "); other settings change what is measured, so re-run the audit",
                budgets,
            )
        defaults = cls().to_dict()
        values = {**defaults, **{k: v for k, v in saved.items() if k in cls.field_names()}}
        constraints = cls.constraints()
        for name, value in limits.items():
            check_param(cls.owner(), name, value, constraints[name])
        values.update(limits)
        config = cls._trusted(values)
        config.check()
        return config

    @classmethod
    def _trusted(cls, values: Mapping[str, Any]) -> Self:
        """A config of settings that were valid where they were made (a saved bundle's),
        frozen but not checked again: they may name a method registered in the session
        that ran the audit, which this one does not know."""
        config = object.__new__(cls)
        for name in cls.field_names():
            object.__setattr__(config, name, freeze(values[name]))
        return config
