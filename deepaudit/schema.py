"""Declared shapes of saved results: the columns of a table, the types of metrics.

A family's typed result (:class:`~deepaudit.results.FamilyResult` subclass) declares
each of its tables as a row dataclass: one field per column, with its type and a
default when the column may be absent. A field named ``class_`` is the column
``class`` (a Python keyword). Declared tables are checked when a result is saved and
when a bundle is loaded, so a reader never meets a column it does not know, and a
hand-edited or damaged bundle is refused with the table, row and column named.

Plain Python and numpy only: the reading side never imports torch.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from deepaudit.errors import DeepAuditError


class SchemaError(DeepAuditError, ValueError):
    """A result does not have the shape its family declares."""


@dataclasses.dataclass(frozen=True)
class Column:
    """One declared column: its name, what it holds, whether it may be absent."""

    name: str
    field: str
    check: Callable[[Any], bool]
    expected: str
    required: bool
    doc: str = ""


def column_name(field_name: str) -> str:
    """``class_`` -> ``class``: a trailing underscore frees a Python keyword."""
    return field_name[:-1] if field_name.endswith("_") else field_name


@functools.cache
def columns(row_class: type) -> tuple[Column, ...]:
    """The columns a row dataclass declares, in order."""
    if not dataclasses.is_dataclass(row_class):
        raise TypeError(f"{row_class!r} is not a dataclass")
    hints = typing.get_type_hints(row_class)
    out = []
    for f in dataclasses.fields(row_class):
        check, expected = type_check(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(
            Column(
                column_name(f.name), f.name, check, expected, required, f.metadata.get("doc", "")
            )
        )
    return tuple(out)


def type_check(annotation: Any) -> tuple[Callable[[Any], bool], str]:
    """A predicate for values of ``annotation`` as they come back from JSON, and its
    description (``float`` also takes ints, NaN and infinities)."""
    if annotation is Any:
        return (lambda v: True), "any value"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [type_check(a) for a in typing.get_args(annotation)]
        return (lambda v: any(p(v) for p, _ in parts)), " or ".join(d for _, d in parts)
    if annotation is type(None):
        return (lambda v: v is None), "None"
    if annotation is bool:
        return (lambda v: isinstance(v, bool)), "a bool"
    if annotation is int:
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "an int"
    if annotation is float:
        return (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "a number"
    if annotation is str:
        return (lambda v: isinstance(v, str)), "a str"
    if annotation is list or origin is list:
        return (lambda v: isinstance(v, list | tuple)), "a list"
    if annotation is dict or origin is dict:
        return (lambda v: isinstance(v, Mapping)), "a dict"
    raise TypeError(f"columns hold str, int, float, bool, list, dict or Any; not {annotation!r}")


def extra_columns(row_class: type) -> Mapping[str, Any]:
    """Columns named by data (``"selection_rate[*]"``: one per group), declared by a row
    class as ``EXTRA_COLUMNS = {pattern: type}``."""
    return getattr(row_class, "EXTRA_COLUMNS", {})


def check_rows(where: str, rows: Any, row_class: type) -> None:
    """Raise :class:`SchemaError` unless every row has the declared columns and types."""
    if not isinstance(rows, list):
        raise SchemaError(f"{where} must be a list of rows; got {type(rows).__name__}")
    declared = columns(row_class)
    names = {c.name for c in declared}
    extra = extra_columns(row_class)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SchemaError(f"{where}, row {i}, must be a dict; got {type(row).__name__}")
        unknown = [k for k in row if k not in names]
        for key in unknown:
            pattern = find_pattern(key, extra)
            if pattern is None:
                raise SchemaError(
                    f"{where}, row {i}, has undeclared columns {sorted(unknown)} "
                    f"(declared: {', '.join(sorted(names) + list(extra))})"
                )
            check, expected = type_check(extra[pattern])
            if not check(row[key]):
                raise SchemaError(
                    f"{where}, row {i}, column {key!r} must be {expected}; got {_short(row[key])}"
                )
        for column in declared:
            if column.name not in row:
                if column.required:
                    raise SchemaError(f"{where}, row {i}, lacks the column {column.name!r}")
                continue
            if not column.check(row[column.name]):
                raise SchemaError(
                    f"{where}, row {i}, column {column.name!r} must be {column.expected}; "
                    f"got {_short(row[column.name])}"
                )


def make_rows(rows: Iterable[Mapping], row_class: type) -> list:
    """Rows as instances of their row dataclass (typed attribute access; columns named
    by data are left out: read them from the table)."""
    declared = columns(row_class)
    return [row_class(**{c.field: row[c.name] for c in declared if c.name in row}) for row in rows]


def find_pattern(name: str, declared: Mapping[str, Any]) -> str | None:
    """The declared key matching ``name``: itself, else the first pattern in which ``*``
    stands for any text (the only special character)."""
    if name in declared:
        return name
    return next((p for p in declared if "*" in p and _pattern(p).fullmatch(name)), None)


@functools.cache
def _pattern(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def check_values(where: str, values: Any, declared: Mapping[str, Any]) -> None:
    """Every key of ``values`` declared (by name or pattern), each of its declared type."""
    if not isinstance(values, Mapping):
        raise SchemaError(f"{where} must be a dict; got {type(values).__name__}")
    for key, value in values.items():
        pattern = find_pattern(key, declared)
        if pattern is None:
            raise SchemaError(
                f"{where} has the undeclared entry {key!r} (declared: {', '.join(declared)})"
            )
        check, expected = type_check(declared[pattern])
        if not check(value):
            raise SchemaError(f"{where}[{key!r}] must be {expected}; got {_short(value)}")


def check_names(where: str, names: Iterable[str], declared: Mapping[str, Any]) -> None:
    """Every name declared (by name or pattern)."""
    for name in names:
        if find_pattern(name, declared) is None:
            raise SchemaError(
                f"{where} has the undeclared entry {name!r} (declared: {', '.join(declared)})"
            )


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite(value: Any) -> bool:
    """A real number that is neither NaN nor infinite."""
    return is_number(value) and math.isfinite(float(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
