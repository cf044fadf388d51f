"""Reports: audit bundles rendered as views, one self-contained HTML file, JSON and Markdown.

::

    from deepaudit.reports import write_report, write_index, findings_markdown
    write_report("runs/cnn")                  # runs/cnn/report.html, opens with no network
    write_index("runs", ["runs/cnn", "runs/lstm"])
    print(findings_markdown(deepaudit.load_bundle("runs/cnn")))   # for a PR comment
    write_junit(bundle, "audit.xml"); write_sarif(bundle, "audit.sarif")   # CI gates
"""

from deepaudit.reports.ci import junit_xml, sarif, write_junit, write_sarif
from deepaudit.reports.findings import (
    findings_document,
    findings_json,
    findings_markdown,
    severity_counts,
    write_findings,
)
from deepaudit.reports.index import write_index
from deepaudit.reports.render import render_html, write_report

__all__ = [
    "findings_document",
    "findings_json",
    "findings_markdown",
    "junit_xml",
    "render_html",
    "sarif",
    "severity_counts",
    "write_findings",
    "write_index",
    "write_junit",
    "write_report",
    "write_sarif",
]
