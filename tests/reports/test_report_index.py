"""The index page: each model's report, its worst finding and its counts, linked relatively."""

from __future__ import annotations

import re

from deepaudit.reports import write_findings, write_index, write_report
from deepaudit.reports.findings import severity_counts
from tests.reports.helpers import parse_report


def test_index_links_each_report_with_its_worst_severity_and_counts(
    classifier_bundle, generator_bundle, saved, tmp_path
):
    with_report = saved(classifier_bundle, "runs/a")
    without_report = saved(generator_bundle, "runs/b")
    write_report(with_report)
    write_findings(classifier_bundle, with_report / "findings.json", with_report / "findings.md")
    index = write_index(tmp_path / "runs", [with_report, without_report])
    assert index == tmp_path / "runs" / "index.html"
    html = index.read_text()
    parser = parse_report(html)
    assert parser.links == ["a/report.html", "a/findings.json", "a/findings.md"]
    assert all((index.parent / link).is_file() for link in parser.links)
    assert parser.sources == []
    rows = re.findall(r'<tr data-model="([^"]+)">(.*?)</tr>', html, re.S)
    assert [name for name, _ in rows] == ["tiny-tabular", "Sequential"]
    for (_, row), bundle in zip(rows, (classifier_bundle, generator_bundle), strict=True):
        assert f'badge sev-{bundle.worst_severity}"' in row
        counts = dict(re.findall(r'data-severity="(\w+)">(\d+)<', row))
        assert {s: int(n) for s, n in counts.items()} == severity_counts(bundle)
    assert "http:" not in html and "https:" not in html


def test_index_escapes_model_names(planted_bundle, saved, tmp_path):
    run = saved(planted_bundle)
    planted_bundle.target["name"] = "<script>x()</script>"
    planted_bundle.save(run)
    html = write_index(tmp_path, [run]).read_text()
    assert "<script>x()" not in html and "&lt;script&gt;x()" in html
