"""Laying a bundle out for the report: sections, tables of cells, findings with links.

Everything here is plain data the template renders; values stay raw (the template
escapes them). Numbers keep their exact value beside the rounded text, so a reader (or
a test) can check the report against the bundle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from deepaudit.reports.embed import FigureStore
from deepaudit.reports.findings import evidence_summary, format_number
from deepaudit.reports.views import (
    FigureView,
    Section,
    TableView,
    TextView,
    anchor,
    family_section,
    generic_section,
)

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, Finding

#: Tables longer than this show their first rows; the bundle (and the dashboard) hold all.
MAX_TABLE_ROWS = 100
#: Text cells longer than this are sentences: the layout keeps their column readable.
LONG_TEXT = 24
#: The width a table may take before its further columns go behind an expander, in
#: pixels at the report's table font (the page's content box is about 1,000 px wide).
TABLE_WIDTH_BUDGET = 900
#: Pixels per character of table text, and per cell of padding (conservative).
_CHAR_PX, _CELL_PX = 7.6, 22


@dataclass
class Cell:
    """A table cell: the text shown and, for numbers, the exact value (``data-value``)."""

    text: str
    value: str | None = None  # the exact number, where the text rounds it
    numeric: bool = False

    @property
    def css_class(self) -> str | None:
        """``num`` (right-aligned), ``long`` (a sentence: kept wide enough to read) or none."""
        if self.numeric:
            return "num"
        return "long" if len(self.text) > LONG_TEXT else None


@dataclass
class Table:
    """Rows of cells. ``more`` is the same table with every column, when the columns that
    fit the page are fewer (the report puts it behind an expander)."""

    columns: list[str]
    rows: list[list[Cell]]
    n_rows: int
    more: Table | None = None

    @property
    def truncated(self) -> bool:
        return self.n_rows > len(self.rows)


@dataclass
class Item:
    """A view laid out: its anchor, title, caption and one of table / figure / text."""

    kind: str
    id: str
    title: str
    caption: str = ""
    table: Table | None = None
    figure: str | None = None  # id of the JSON script block
    text: str = ""


@dataclass
class SectionLayout:
    family: str
    id: str
    title: str
    items: list[Item] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None
    model_evaluations: int | None = None


def safe_section(bundle: AuditBundle, family: str) -> Section:
    """The family's view; should it raise, the generic view with a note saying so.

    One broken view must not cost the reader the whole report: the note names the error,
    and the family's metrics, tables and findings still appear.
    """
    try:
        return family_section(bundle, family)
    except Exception as exc:
        section = generic_section(bundle, bundle.families[family])
        section.items.insert(
            0,
            TextView(
                "view-error",
                "This family's view failed",
                f"{type(exc).__name__}: {exc}. Its metrics and tables are shown plainly below.",
            ),
        )
        return section


def section_id(family: str) -> str:
    """The HTML id of a family's section."""
    return anchor("section", family)


def layout_section(section: Section, figures: FigureStore, max_rows: int) -> SectionLayout:
    layout = SectionLayout(
        family=section.family,
        id=section_id(section.family),
        title=section.title,
        seconds=section.cost.get("seconds"),
        model_evaluations=section.cost.get("model_evaluations"),
    )
    texts = set()
    for view in section.items:
        item_id = anchor(section.family, view.key)
        if isinstance(view, TableView):
            layout.items.append(
                Item(
                    "table",
                    item_id,
                    view.title,
                    view.caption,
                    table=table_layout(view.frame, max_rows),
                )
            )
        elif isinstance(view, FigureView):
            script_id = figures.add(view.figure, item_id)
            layout.items.append(Item("figure", item_id, view.title, view.caption, figure=script_id))
        elif isinstance(view, TextView):
            texts.add(view.text)
            layout.items.append(Item("text", item_id, view.title, text=view.text))
    layout.notes = [note for note in section.notes if note not in texts]
    return layout


def finding_context(finding: Finding, sections: list[Section]) -> dict[str, Any]:
    """A finding with the link to its evidence: the view it names, else its family."""
    section = next((s for s in sections if s.family == finding.family), None)
    keys = {view.key: view.title for view in section.items} if section else {}
    table = finding.evidence.view
    if table in keys:
        href, label = "#" + anchor(finding.family, table), keys[table]
    elif section is not None:
        href, label = "#" + section_id(finding.family), section.title
    else:
        href, label = None, None
    return {
        "id": finding.id,
        "family": finding.family,
        "check": finding.check,
        "severity": finding.severity,
        "message": finding.message,
        "evidence": evidence_summary(finding),
        "href": href,
        "label": label,
    }


def table_layout(
    frame: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS, width: float = TABLE_WIDTH_BUDGET
) -> Table:
    """``frame`` for a reader: intervals in one column (``0.34 [0.29, 0.39]``), headers
    in words, numbers at three significant digits, and only as many columns as fit
    ``width``; the full table (every column) is then kept in :attr:`Table.more`."""
    head = frame.head(max_rows)
    columns, cells = merged_columns(head)
    full = Table(columns=[header_text(c) for c in columns], rows=_rows(cells), n_rows=len(frame))
    keep = fitting_columns(full, width)
    if keep == len(columns):
        return full
    return Table(
        columns=full.columns[:keep],
        rows=[row[:keep] for row in full.rows],
        n_rows=full.n_rows,
        more=full,
    )


def _rows(cells: list[list[Cell]]) -> list[list[Cell]]:
    return [list(row) for row in zip(*cells, strict=True)] if cells else []


def merged_columns(frame: pd.DataFrame) -> tuple[list[str], list[list[Cell]]]:
    """The columns of ``frame`` with each ``x_low`` / ``x_high`` (or ``low`` / ``high``
    beside ``value``) folded into ``x``'s cells; returns names and cells by column."""
    names = [str(c) for c in frame.columns]
    bounds: dict[str, tuple[str, str]] = {}
    for name in names:
        for low, high in ((f"{name}_low", f"{name}_high"), (f"{name}_lower", f"{name}_upper")):
            if low in names and high in names:
                bounds[name] = (low, high)
    if "value" in names and "low" in names and "high" in names:
        bounds["value"] = ("low", "high")
    folded = {b for pair in bounds.values() for b in pair}
    columns, cells = [], []
    data = {name: frame.iloc[:, i].tolist() for i, name in enumerate(names)}
    for name in names:
        if name in folded:
            continue
        if name in bounds:
            low, high = bounds[name]
            column = [
                interval_cell(v, lo, hi)
                for v, lo, hi in zip(data[name], data[low], data[high], strict=True)
            ]
        else:
            column = [cell(v) for v in data[name]]
        columns.append(name)
        cells.append(column)
    return columns, cells


def interval_cell(value: Any, low: Any, high: Any) -> Cell:
    """``0.34 [0.29, 0.39]``, the exact value kept; the interval left out when unknown."""
    point = cell(value)
    if not point.numeric:
        return point
    ends = [cell(low), cell(high)]
    if not all(end.numeric for end in ends):
        return point
    return Cell(f"{point.text} [{ends[0].text}, {ends[1].text}]", point.value, numeric=True)


def header_text(name: str) -> str:
    """A column header in words: ``changed_share`` -> ``Changed share``; a name with
    capitals, spaces or other characters (from data, say) is left as it is."""
    if not name.replace("_", "").isalnum() or name.lower() != name or " " in name:
        return name
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def column_width(header: str, cells: list[Cell]) -> float:
    """The width a column needs, in pixels: its longest header word or cell (sentences
    wrap, so a long cell counts as :data:`LONG_TEXT` characters)."""
    longest = max((len(word) for word in header.split()), default=1)
    for c in cells:
        longest = max(longest, min(len(c.text), LONG_TEXT) if not c.numeric else len(c.text))
    return longest * _CHAR_PX + _CELL_PX


def fitting_columns(table: Table, width: float) -> int:
    """How many leading columns of ``table`` fit ``width`` (at least one)."""
    used = 0.0
    for i, header in enumerate(table.columns):
        used += column_width(header, [row[i] for row in table.rows])
        if used > width and i > 0:
            return i
    return len(table.columns)


def cell(value: Any) -> Cell:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("—")
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int):
        if abs(value) >= 10_000:
            return Cell(f"{value:,}", value=str(value), numeric=True)
        return Cell(str(value), numeric=True)
    if isinstance(value, float):
        text, exact = format_number(value, digits=3), repr(value)
        return Cell(text, value=None if text == exact else exact, numeric=True)
    if isinstance(value, list | tuple | np.ndarray):
        return Cell(", ".join(str(v) for v in list(value)[:20]))
    if isinstance(value, dict):
        return Cell(json.dumps(value, ensure_ascii=False, default=str))
    return Cell(str(value))
