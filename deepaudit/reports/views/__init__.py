"""Views: pure functions from an :class:`~deepaudit.results.AuditBundle` to tables and
plotly figures. The HTML report and the dashboard both render through them.

Each built-in family's view is a function in a module here, which the family names
(``Family.view_path``); :func:`bundle_sections` returns one :class:`Section` per family
in the bundle through its family's ``view``, falling back to :func:`generic_section` for
a family without a view of its own, or one this installation does not know.
"""

from __future__ import annotations

from deepaudit.reports.views.base import (
    FigureView,
    Section,
    TableView,
    TextView,
    View,
    anchor,
    escape,
)
from deepaudit.reports.views.common import (
    cost_table,
    findings_frame,
    generic_section,
    image_figure,
    image_grid,
    method_cost_frame,
    metrics_frame,
    provenance_frame,
)

__all__ = [
    "FigureView",
    "Section",
    "TableView",
    "TextView",
    "View",
    "anchor",
    "bundle_sections",
    "cost_table",
    "escape",
    "family_section",
    "findings_frame",
    "generic_section",
    "image_figure",
    "image_grid",
    "method_cost_frame",
    "metrics_frame",
    "provenance_frame",
]


def family_section(bundle, family: str) -> Section:
    """The section of one family: its family's view, else the generic one."""
    from deepaudit.families import find_family

    result = bundle.families[family]
    found = find_family(family)
    return generic_section(bundle, result) if found is None else found.view(bundle, result)


def bundle_sections(bundle) -> list[Section]:
    """One section per family in the bundle, in the order the audit ran them."""
    return [family_section(bundle, name) for name in bundle.families]
