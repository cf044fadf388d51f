"""Views: pure functions from an :class:`~deepaudit.results.AuditBundle` to tables and
plotly figures. The HTML report and the dashboard both render through them.

Each family has a module here registering its view with :func:`register_view`;
:func:`bundle_sections` returns one :class:`Section` per family in the bundle, falling back
to :func:`generic_section` for a family without a view of its own.
"""

from __future__ import annotations

import importlib
import pkgutil

from deepaudit.reports.views.base import (
    FigureView,
    Section,
    TableView,
    TextView,
    View,
    anchor,
    escape,
    register_view,
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
    "register_view",
]

_LOADED = False


def _load_family_views() -> None:
    """Import every module of this package; each registers its family's view."""
    global _LOADED
    if _LOADED:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("base", "common"):
            importlib.import_module(f"{__name__}.{module.name}")
    _LOADED = True


def family_section(bundle, family: str) -> Section:
    """The section of one family: its registered view, else the generic one."""
    from deepaudit.reports.views.base import _VIEWS

    _load_family_views()
    result = bundle.families[family]
    view = _VIEWS.get(family, generic_section)
    return view(bundle, result)


def bundle_sections(bundle) -> list[Section]:
    """One section per family in the bundle, in the order the audit ran them."""
    return [family_section(bundle, name) for name in bundle.families]
