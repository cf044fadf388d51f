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
    columns: list[str]
    rows: list[list[Cell]]
    n_rows: int

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
        "family": finding.family,
        "check": finding.check,
        "severity": finding.severity,
        "message": finding.message,
        "evidence": evidence_summary(finding),
        "href": href,
        "label": label,
    }


def table_layout(frame: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> Table:
    head = frame.head(max_rows)
    rows = [[cell(v) for v in record] for record in head.itertuples(index=False, name=None)]
    return Table(columns=[str(c) for c in frame.columns], rows=rows, n_rows=len(frame))


def cell(value: Any) -> Cell:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("—")
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int | float):
        text, exact = format_number(value), repr(value)
        return Cell(text, value=None if text == exact else exact, numeric=True)
    if isinstance(value, list | tuple | np.ndarray):
        return Cell(", ".join(str(v) for v in list(value)[:20]))
    if isinstance(value, dict):
        return Cell(json.dumps(value, ensure_ascii=False, default=str))
    return Cell(str(value))
