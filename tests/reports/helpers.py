"""Helpers of the report tests: planted markup, a hand-built family and its view, an HTML
parser that reads tables with their exact values, and where Chromium is."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from torch import nn

import deepaudit as da
from deepaudit._validation import Interval
from deepaudit.configs import Config
from deepaudit.families import Family
from deepaudit.reports.views import FigureView, Section, TableView, TextView, escape
from deepaudit.results import Evidence, FamilyResult, Finding

#: Each would run script if a renderer let it through unescaped.
PLANTED_FEATURE = "<script>window.__pwned='feature'</script>"
PLANTED_GROUP = '"><img src=x onerror="window.__pwned=\'group\'">'
PLANTED_CLASS = "</script><script>window.__pwned='class'</script>"
#: A label that plotly would draw as a link to another host, were it not made inert.
PLANTED_LINK = '<a href="http://host.invalid/x">sex</a>'
PLANTED = (PLANTED_FEATURE, PLANTED_GROUP, PLANTED_CLASS)


def make_planted_target(rng) -> da.Target:
    """A classifier whose feature name, group label and class name are markup."""
    torch.manual_seed(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return da.Target(
        nn.Sequential(nn.Linear(3, 2)),
        modality="tabular",
        data=X,
        labels=y,
        sensitive={"group": np.where(X[:, 1] > 0, PLANTED_GROUP, "b")},
        feature_names=[PLANTED_FEATURE, "hours", "age"],
        class_names=["no", PLANTED_CLASS],
        name="planted",
        device="cpu",
    )


def overview_bundle(target: da.Target) -> da.AuditBundle:
    return da.run_audit(target, da.AuditConfig(families=["overview"], progress=False))


def planted_family_result() -> FamilyResult:
    """A hand-built family result whose tables, text and finding carry the planted markup."""
    return FamilyResult(
        family="planted",
        metrics={"gap": 0.25, "n": 120},
        tables={
            "groups": [
                {"group": PLANTED_GROUP, "rate": 0.5, "n": 60},
                {"group": "b", "rate": 0.25, "n": 60},
            ],
            "cost": [{"method": PLANTED_FEATURE, "seconds": 0.5, "model_evaluations": 10}],
        },
        findings=[
            Finding(
                "planted",
                "gap",
                "fail",
                f"Group {PLANTED_GROUP} differs from {PLANTED_FEATURE} by 25 points.",
                Evidence(metric="gap", value=0.25, threshold=0.1, group=PLANTED_GROUP, view="bars"),
            )
        ],
        seconds=0.5,
        model_evaluations=10,
        notes=[f"Note about {PLANTED_FEATURE}."],
    )


def planted_view(bundle, result) -> Section:
    """A family view that puts the planted strings in a table, a figure and a paragraph."""
    rows = pd.DataFrame(result.tables["groups"])
    figure = go.Figure(
        go.Bar(
            x=[escape(g) for g in rows["group"]],
            y=rows["rate"],
            hovertext=[PLANTED_FEATURE, PLANTED_CLASS],  # raw on purpose: the embed must hold
            name=PLANTED_LINK,  # raw on purpose: a view that forgot to escape
            showlegend=True,
        )
    )
    figure.update_layout(title={"text": escape(PLANTED_FEATURE)}, height=300)
    figure.update_layout(annotations=[{"text": PLANTED_LINK, "x": 0, "y": 0.5}])
    return Section(
        family="planted",
        title=f"Planted {PLANTED_FEATURE}",
        items=[
            TableView("groups", f"Groups {PLANTED_GROUP}", rows, f"caption {PLANTED_CLASS}"),
            FigureView("bars", "Rates by group", figure, "One bar per group."),
            TextView("text", "Text", f"A paragraph naming {PLANTED_FEATURE}."),
        ],
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )


@dataclass(frozen=True)
class PlantedConfig(Config):
    max_gap: float = 0.1

    @classmethod
    def constraints(cls):
        return {"max_gap": [Interval(float, 0, 1)]}


class PlantedFamily(Family):
    """A family outside the package, registered by the tests: its view is
    :func:`planted_view` (read at each call, so a test can swap it)."""

    name = "planted"
    title = "Planted"
    config_class = PlantedConfig
    view_path = "tests.reports.helpers:planted_view"


# -- HTML parsing ------------------------------------------------------------------------


class ReportParser(HTMLParser):
    """Collects ids, links, scripts and table cells (with their exact values) of a report."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.meta: list[dict] = []
        self.headers: dict[str, list[str]] = {}  # table id -> column names
        self.cells: dict[str, list[list[dict]]] = {}  # table id -> rows of cells
        self._script: dict | None = None
        self._script_text: list[str] = []
        self._table: str | None = None
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if "href" in attrs:
            self.links.append(attrs["href"])
        if "src" in attrs:
            self.sources.append(attrs["src"])
        if tag == "meta":
            self.meta.append(attrs)
        if tag == "script":
            self._script, self._script_text = attrs, []
        if tag == "table":
            self._table = attrs.get("id", f"table-{len(self.cells)}")
            self.cells[self._table], self.headers[self._table] = [], []
        if tag == "tr" and self._table is not None:
            self.cells[self._table].append([])
        if tag in ("td", "th") and self._table is not None:
            self._cell = {**attrs, "text": "", "tag": tag}
            if tag == "td":
                self.cells[self._table][-1].append(self._cell)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None
        if tag == "table":
            self._table = None
        if tag in ("td", "th") and self._cell is not None:
            if self._cell["tag"] == "th" and self._table is not None:
                self.headers[self._table].append(self._cell["text"])
            self._cell = None

    def handle_data(self, data):
        if self._script is not None:
            self._script_text.append(data)
        if self._cell is not None:
            self._cell["text"] += data

    def table_rows(self, table_id: str) -> list[dict[str, dict]]:
        """The rows of a table as {column: cell}; a cell's "exact" is the number it shows."""
        rows = []
        for row in self.cells[table_id]:
            if row:  # the header row has no td
                for cell in row:
                    cell["exact"] = cell.get("data-value", cell["text"])
                rows.append(dict(zip(self.headers[table_id], row, strict=True)))
        return rows


def parse_report(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser


# -- the browser -------------------------------------------------------------------------


@contextmanager
def chromium_browser() -> Iterator:
    """A headless chromium in playwright, closed afterwards (skip the caller when
    there is no chromium)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


NO_CHROMIUM = (
    "no Chromium found (install Debian's `chromium`, e.g. `make browser`, or set "
    "DEEPAUDIT_CHROMIUM to its path)"
)


def require_chromium(allow_module_level: bool = False):
    """Skip the caller (or its module) without a chromium or without playwright; return
    playwright's ``sync_api``."""
    import pytest

    if find_chromium() is None:
        pytest.skip(NO_CHROMIUM, allow_module_level=allow_module_level)
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def find_chromium() -> str | None:
    """Debian's chromium (or $DEEPAUDIT_CHROMIUM), or None when there is none."""
    given = os.environ.get("DEEPAUDIT_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None
