"""The view contract: what every family's view turns a bundle into.

A view is a pure function ``(bundle, family_result) -> Section``. It never touches a
model or data, only the saved bundle, so the HTML report and the dashboard show the
same numbers. Items are plain pandas frames and plotly figures; the report and the
dashboard decide only how to lay them out.

Escaping: table cells and text stay raw (the renderers escape them; escaping here too
would show ``&lt;``). Strings from data placed in a figure (axis labels, tick text,
hover text, titles) go through :func:`escape`: plotly reads a subset of HTML in labels
and decodes the entities, so the escaped text displays as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from deepaudit.results import AuditBundle, FamilyResult, Finding


@dataclass
class TableView:
    """A table of evidence. ``key`` is its anchor, unique within the section."""

    key: str
    title: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass
class FigureView:
    """A plotly figure (heat maps, bars, curves, image grids)."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass
class TextView:
    """A short paragraph (plain text; renderers escape it)."""

    key: str
    title: str
    text: str


View = TableView | FigureView | TextView


@dataclass
class Section:
    """One family's part of a report or a dashboard page."""

    family: str
    title: str
    items: list[View] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    cost: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def item(self, key: str) -> View:
        for view in self.items:
            if view.key == key:
                return view
        raise KeyError(f"section {self.family!r} has no view {key!r}")


FamilyView = Callable[["AuditBundle", "FamilyResult"], Section]


def anchor(family: str, key: str) -> str:
    """The HTML id of a view, so findings can link to their evidence."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{family}-{key}")
    return safe.lower()


def escape(text: Any) -> str:
    """HTML-escape any value (every string from data passes through here).

    The double quote becomes ``&#34;`` rather than ``&quot;``: plotly decodes numeric
    entities in labels but not ``&quot;``, and both are the same character in HTML.
    """
    return html.escape(str(text), quote=True).replace("&quot;", "&#34;")


# Plotly draws a subset of HTML in every label; of it, only these tags (no attributes:
# no <a href>, no <span style>) are let through by :func:`inert`.
_PLAIN_TAGS = re.compile(r"(</?(?:br|b|i|em|sup|sub|extra)\s*/?>)", re.IGNORECASE)


def inert(value: Any) -> Any:
    """``value`` (a figure's plain data: dicts, lists, strings) with every ``<`` that does
    not open a plain formatting tag escaped, in every string: a label from data can then
    neither link (``<a href>``) nor style itself, whichever view forgot to escape it.
    Dictionary keys are left alone; ``&`` is left as it is (already-escaped text stays)."""
    if isinstance(value, str):
        if "<" not in value:
            return value
        parts = _PLAIN_TAGS.split(value)
        return "".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))
    if isinstance(value, dict):
        return {k: inert(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [inert(v) for v in value]
    return value


def inert_figure(figure: go.Figure) -> go.Figure:
    """A copy of ``figure`` whose every string is :func:`inert`."""
    import plotly.graph_objects as go

    return go.Figure(inert(figure.to_plotly_json()))
