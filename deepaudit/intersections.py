"""How an intersection of attributes or of their values is written: ``"sex & race"``,
``"female & black"``, one way back and forth.

A part that holds the separator (or starts with a quote) is quoted, so two different
tuples never get the same label: ``("x & y", "z")`` is ``'"x & y" & z'`` and
``("x", "y & z")`` is ``'x & "y & z"'``. This module imports nothing heavy: the report and
the dashboard read labels with it.
"""

from __future__ import annotations

from collections.abc import Iterable

SEPARATOR = " & "
_QUOTE = '"'


def join_parts(parts: Iterable[object]) -> str:
    """The label of a tuple of names or values."""
    return SEPARATOR.join(_quoted(str(part)) for part in parts)


def split_parts(label: str) -> list[str]:
    """The tuple a label was made from (the inverse of :func:`join_parts`)."""
    parts, i = [], 0
    while True:
        if label.startswith(_QUOTE, i):
            part, i = _read_quoted(label, i)
        else:
            end = label.find(SEPARATOR, i)
            end = len(label) if end < 0 else end
            part, i = label[i:end], end
        parts.append(part)
        if not label.startswith(SEPARATOR, i):
            return parts
        i += len(SEPARATOR)


def _quoted(part: str) -> str:
    if SEPARATOR in part or part.startswith(_QUOTE):
        return _QUOTE + part.replace(_QUOTE, _QUOTE * 2) + _QUOTE
    return part


def _read_quoted(label: str, start: int) -> tuple[str, int]:
    out, i = [], start + 1
    while i < len(label):
        if label[i] == _QUOTE:
            if label.startswith(_QUOTE * 2, i):
                out.append(_QUOTE)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(label[i])
        i += 1
    return label[start:], len(label)  # an unclosed quote: the rest, as written
