"""Rich HTML for Jupyter: an audit, a family's result and a finding, issues first.

Plain HTML with inline styles (a notebook loads no stylesheet of ours), every string
from data escaped, text left-aligned whatever the notebook's own table style.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from deepaudit.results import severity_tally, tally_text

if TYPE_CHECKING:
    from deepaudit.issues import Issue
    from deepaudit.results import AuditBundle, FamilyResult, Finding

COLOURS = {"fail": "#b3261e", "warn": "#9a6700", "inconclusive": "#6f42c1", "pass": "#1a7f37"}
_CELL = "text-align:left;vertical-align:top;padding:2px 8px"


def badge(severity: str) -> str:
    """A coloured severity label."""
    colour = COLOURS.get(severity, "#5b616b")
    return (
        f'<span style="background:{colour};color:#fff;border-radius:3px;padding:0 6px;'
        f'font-size:85%;font-weight:600;text-transform:uppercase">{html.escape(severity)}</span>'
    )


def _counts(findings) -> str:
    return tally_text(severity_tally(findings)) or "no findings"


def _findings_table(findings) -> str:
    rows = "".join(
        f'<tr><td style="{_CELL}">{badge(f.severity)}</td>'
        f'<td style="{_CELL}">{html.escape(f.family)}</td>'
        f'<td style="{_CELL}">{html.escape(f.message)}</td></tr>'
        for f in findings
    )
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("severity", "family", "finding"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _issue_row(issue: Issue) -> str:
    return (
        f'<tr><td style="{_CELL}">{badge(issue.severity)}</td>'
        f'<td style="{_CELL}"><b>{html.escape(issue.title)}</b><br>'
        f'<span style="color:#5b616b">{html.escape(tally_text(issue.counts))}. '
        f"{html.escape(issue.next_step)}</span></td></tr>"
    )


def bundle_html(bundle: AuditBundle) -> str:
    """The audit: its verdict, its issues (fail first), then every finding, folded."""
    esc = html.escape
    target = bundle.target
    issues = bundle.issues
    open_issues = [i for i in issues if i.severity != "pass"]
    passing = len(issues) - len(open_issues)
    spent = sum(r.seconds for r in bundle.families.values())
    rows = "".join(_issue_row(i) for i in open_issues)
    body = (
        f"<table><tbody>{rows}</tbody></table>" if rows else "<p>No issue: every check passes.</p>"
    )
    stop = bundle.incomplete_text
    return (
        '<div style="text-align:left">'
        + (f'<p style="color:#b42318"><b>{esc(stop)}</b></p>' if stop else "")
        + f"<p><b>deepaudit</b> audit of <code>{esc(str(target.get('name')))}</code> "
        f"({esc(str(target.get('kind')))}, {esc(str(target.get('modality')))} data): "
        f"{badge(bundle.worst_severity)} {esc(_counts(bundle.findings))}; "
        f"{len(bundle.families)} families, {spent:.1f} s.</p>"
        f"<p><b>Issues</b> ({len(open_issues)}; {passing} more pass)</p>{body}"
        f"<details><summary>Every finding ({len(bundle.findings)})</summary>"
        f"{_findings_table(bundle.findings)}</details></div>"
    )


def result_html(result: FamilyResult) -> str:
    """One family's result: its findings, metrics and the tables it holds."""
    esc = html.escape
    metrics = "".join(
        f'<tr><td style="{_CELL}">{esc(str(k))}</td><td style="{_CELL}">{esc(_short(v))}</td></tr>'
        for k, v in result.metrics.items()
    )
    tables = ", ".join(
        f"<code>{esc(name)}</code> ({len(rows)} rows)" for name, rows in result.tables.items()
    )
    return (
        '<div style="text-align:left">'
        f"<p><b>{esc(result.family)}</b>: {esc(_counts(result.findings))}; "
        f"{result.seconds:.1f} s, {result.model_evaluations:,} model evaluations.</p>"
        f"{_findings_table(result.findings)}"
        f"<details><summary>Metrics ({len(result.metrics)})</summary><table>{metrics}</table>"
        f"</details><p>Tables (<code>result.table(name)</code> gives a DataFrame): "
        f"{tables or 'none'}</p></div>"
    )


def finding_html(finding: Finding) -> str:
    """A finding: severity, sentence, and its evidence."""
    from deepaudit.reports.findings import evidence_summary

    esc = html.escape
    return (
        f'<div style="text-align:left">{badge(finding.severity)} '
        f"<code>{esc(finding.id)}</code><br>{esc(finding.message)}<br>"
        f'<span style="color:#5b616b">{esc(evidence_summary(finding))}</span></div>'
    )


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "…"
