"""Parameter constraints declared as data and checked in one place.

In the manner of scikit-learn's ``_param_validation``: each public class lists the
constraints of its parameters; :func:`validate_params` checks them all and raises the
same message for every failure, naming the parameter, what was expected and what came.
Because constraints are data, tests can generate an invalid value for every parameter.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepaudit.errors import parameter_error


class Constraint:
    """A condition a parameter value may satisfy, with a description for messages."""

    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        raise NotImplementedError

    def invalid_example(self) -> Any:
        """A value that violates this constraint (used by tests)."""
        raise NotImplementedError


_CLOSED = ("both", "left", "right", "neither")


@dataclass(frozen=True)
class Interval(Constraint):
    """A real or integral number in [low, high] (bounds may be open or infinite)."""

    kind: type  # int or float
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"

    def __post_init__(self) -> None:
        # A constraint is checked where it is made, like any other parameter.
        if self.kind not in (int, float):
            raise parameter_error("kind", "Interval", "int or float", self.kind)
        for name in ("low", "high"):
            bound = getattr(self, name)
            if bound is not None and (
                isinstance(bound, bool)
                or not isinstance(bound, numbers.Real)
                or math.isnan(float(bound))
            ):
                raise parameter_error(name, "Interval", "a real number or None", bound)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise parameter_error(
                "high", "Interval", f"a number at least low={_number(self.low)}", self.high
            )
        if self.closed not in _CLOSED:
            raise parameter_error(
                "closed", "Interval", "one of " + ", ".join(map(repr, _CLOSED)), self.closed
            )

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real) or math.isnan(float(value)):
            return False
        left_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        right_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return bool(left_ok and right_ok)

    @property
    def description(self) -> str:  # type: ignore[override]
        noun = "an int" if self.kind is int else "a float"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"{noun} in the range {left}{low}, {high}{right}"

    def invalid_example(self) -> Any:
        if self.low is not None:
            return self.kind(self.low - 1) if self.kind is int else self.low - 1.0
        return self.kind(self.high + 1) if self.kind is int else self.high + 1.0


def _options(options: tuple | Callable[[], Iterable]) -> tuple:
    """A constraint's options: a fixed tuple, or read from a registry when checked (so
    that names registered after import are accepted)."""
    return tuple(options()) if callable(options) else tuple(options)


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a set of values (usually strings): a tuple, or a function returning them."""

    options: tuple | Callable[[], Iterable]

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return value in _options(self.options)
        except TypeError:
            return False

    @property
    def description(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(repr(o) for o in _options(self.options))

    def invalid_example(self) -> Any:
        return "not-an-option"


@dataclass(frozen=True)
class SubsetOf(Constraint):
    """A non-empty list or tuple of distinct values from a set (a tuple, or a function
    returning them)."""

    options: tuple | Callable[[], Iterable]

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return False
        try:
            options = _options(self.options)
            return (
                len(value) > 0
                and len(set(value)) == len(value)
                and all(v in options for v in value)
            )
        except TypeError:  # unhashable items
            return False

    @property
    def description(self) -> str:  # type: ignore[override]
        return "a non-empty list of distinct values from " + ", ".join(
            repr(o) for o in _options(self.options)
        )

    def invalid_example(self) -> Any:
        return ["not-an-option"]


@dataclass(frozen=True)
class NumberList(Constraint):
    """A non-empty, increasing list of numbers inside an interval."""

    item: Interval

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            return False
        if not all(self.item.is_satisfied_by(v) for v in value):
            return False
        return all(a < b for a, b in itertools.pairwise(value))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"a non-empty increasing list of numbers, each {self.item.description}"

    def invalid_example(self) -> Any:
        return [self.item.invalid_example()]


@dataclass(frozen=True)
class Names(Constraint):
    """A list or tuple of non-empty strings (names of attributes, features, ...);
    ``distinct``: no name twice; ``non_empty``: at least one name."""

    label: str
    distinct: bool = True
    non_empty: bool = False

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return False
        if not all(isinstance(v, str) and v for v in value):
            return False
        if self.non_empty and not value:
            return False
        return not self.distinct or len(set(value)) == len(value)

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label

    def invalid_example(self) -> Any:
        return ["a", "a"] if self.distinct else 3


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of one of the given types."""

    types: tuple
    label: str

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label

    def invalid_example(self) -> Any:
        return object()


@dataclass(frozen=True)
class Satisfies(Constraint):
    """Any value a predicate accepts; the label says what it accepts."""

    predicate: Callable[[Any], bool]
    label: str
    bad_example: Any = None

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except Exception:
            return False

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label

    def invalid_example(self) -> Any:
        return self.bad_example


class _NoneConstraint(Constraint):
    description = "None"

    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def invalid_example(self) -> Any:  # pragma: no cover - None is never the only option
        return 0


NONE = _NoneConstraint()


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_param(owner: str, name: str, value: Any, constraints: Iterable[Constraint]) -> None:
    """Raise the standard :class:`ValidationError` unless some constraint accepts ``value``."""
    constraints = list(constraints)
    if any(c.is_satisfied_by(value) for c in constraints):
        return
    descriptions = [c.description for c in constraints]
    if len(descriptions) == 1:
        expected = descriptions[0]
    else:
        expected = ", ".join(descriptions[:-1]) + " or " + descriptions[-1]
    raise parameter_error(name, owner, expected, value)


def validate_params(
    owner: str, values: Mapping[str, Any], constraints: Mapping[str, list[Constraint]]
) -> None:
    """Check every constrained parameter of ``owner``; stops at the first failure."""
    for name, allowed in constraints.items():
        check_param(owner, name, values[name], allowed)


def as_class_indices(values: np.ndarray) -> np.ndarray | None:
    """``values`` as int64 when they are integers or finite whole floats (labels read
    from CSV or parquet often come as floats); ``None`` when they are not."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    if (
        np.issubdtype(values.dtype, np.floating)
        and np.all(np.isfinite(values))
        and np.all(values == np.round(values))
    ):
        return values.astype(np.int64)
    return None
