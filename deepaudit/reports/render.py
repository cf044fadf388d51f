"""The HTML report: one self-contained file per audit that opens from disk with no network.

The bundle's sections (from the views) are laid out by a jinja2 template with
autoescaping on, after a model-card header and the findings. plotly.js is embedded once;
figures travel as script-safe JSON. A Content-Security-Policy allows only the report's
own two scripts (by hash), inline styles and ``data:`` images, and no connection at all,
so even a string that escaped escaping could neither run nor fetch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from deepaudit.reports._io import atomic_write_text
from deepaudit.reports.card import audited_line, model_card
from deepaudit.reports.embed import FigureStore, csp_hash, plotly_js, plotly_js_hash
from deepaudit.reports.findings import severity_counts
from deepaudit.reports.layout import (
    MAX_TABLE_ROWS,
    finding_context,
    layout_section,
    safe_section,
    table_layout,
)
from deepaudit.reports.templating import environment, static
from deepaudit.reports.views import Section, cost_table, method_cost_frame
from deepaudit.results import SEVERITIES, tally_text

if TYPE_CHECKING:
    from deepaudit.issues import Issue
    from deepaudit.results import AuditBundle

#: Rows per table when the report would otherwise exceed its size budget.
FALLBACK_TABLE_ROWS = 20
#: The issue's budget: a report of at most 6 MB (plotly.js is about 4.8 MB of it).
MAX_REPORT_BYTES = 6_000_000
REPORT_FILE = "report.html"


def render_html(bundle: AuditBundle, max_bytes: int = MAX_REPORT_BYTES) -> str:
    """The complete report of ``bundle`` as one HTML document (a string).

    Long tables show their first :data:`MAX_TABLE_ROWS` rows. Should the report still
    exceed ``max_bytes`` (plotly.js alone is about 4.8 MB), tables are cut to
    :data:`FALLBACK_TABLE_ROWS` rows; figures and findings are never dropped.
    """
    sections = [safe_section(bundle, family) for family in bundle.families]
    html = _render(bundle, sections, MAX_TABLE_ROWS)
    if len(html.encode("utf-8")) > max_bytes:
        html = _render(bundle, sections, FALLBACK_TABLE_ROWS)
    return html


def _render(bundle: AuditBundle, sections: list[Section], max_rows: int) -> str:
    figures = FigureStore()
    layouts = [layout_section(section, figures, max_rows) for section in sections]
    findings = [finding_context(f, sections) for f in bundle.findings]
    by_id = {f["id"]: f for f in findings}
    issues = [issue_context(issue, by_id) for issue in bundle.issues]
    by_family: dict[str, list[dict]] = {}
    for finding in findings:
        by_family.setdefault(finding["family"], []).append(finding)
    for layout in layouts:
        layout.findings = by_family.get(layout.family, [])
    loader = static("report.js")
    context = {
        "title": f"deepaudit report: {bundle.target.get('name') or 'model'}",
        "bundle_sha256": bundle.source_sha256,
        "incomplete": bundle.incomplete_text,
        "card": model_card(bundle),
        "audited": audited_line(bundle),
        "issues": [i for i in issues if i["severity"] != "pass"],
        "passing_issues": [i for i in issues if i["severity"] == "pass"],
        "worst": bundle.worst_severity,
        "counts": severity_counts(bundle),
        "findings": findings,
        "sections": layouts,
        "family_cost": table_layout(cost_table(bundle)),
        "method_cost": table_layout(method_cost_frame(bundle)),
        "total_seconds": bundle.provenance.get("seconds"),
        "total_evaluations": bundle.provenance.get("model_evaluations"),
        "config": table_layout(_config_frame(bundle)),
        "versions": table_layout(
            pd.DataFrame(
                sorted((bundle.provenance.get("versions") or {}).items()),
                columns=["package", "version"],
            )
        ),
        "figures": figures.figures,
        "templates_json": figures.templates_json(),
        "plotly_js": plotly_js(),
        "loader_js": loader,
        "csp": _csp(plotly_js_hash(), csp_hash(loader)),
        "css": static("report.css"),
        "severities": SEVERITIES,
    }
    return environment().get_template("report.html.j2").render(**context)


def issue_context(issue: Issue, findings: dict[str, dict]) -> dict:
    """An issue for the template: its words, its counts, and its findings laid out."""
    return {
        "id": "issue-" + issue.id.replace(".", "-"),
        "title": issue.title,
        "severity": issue.severity,
        "n": issue.n_findings,
        "counts": tally_text(issue.counts),
        "next_step": issue.next_step,
        "findings": [findings[i] for i in issue.findings if i in findings],
    }


def write_report(run_dir: str | os.PathLike, out_path: str | os.PathLike | None = None) -> Path:
    """Render the audit saved in ``run_dir`` to ``out_path`` (default ``run_dir/report.html``).

    The file is written atomically: a reader sees the previous report or the new one.
    """
    from deepaudit.results import load_bundle

    bundle = load_bundle(run_dir)
    out = Path(out_path) if out_path is not None else Path(run_dir) / REPORT_FILE
    return atomic_write_text(out, render_html(bundle))


def _config_frame(bundle: AuditBundle) -> pd.DataFrame:
    """Every family's settings, one row per parameter (thresholds decide the verdicts)."""
    rows = [
        {"family": family, "parameter": name, "value": value}
        for family, options in (bundle.config.get("options") or {}).items()
        for name, value in (options or {}).items()
    ]
    return pd.DataFrame(rows, columns=["family", "parameter", "value"])


def _csp(*script_hashes: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(script_hashes),
            "style-src 'unsafe-inline'",
            "img-src data: blob:",
            "font-src data:",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
