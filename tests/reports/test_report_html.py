"""The HTML report: self-contained, escaped, faithful to the bundle, written atomically."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re

import markupsafe
import numpy as np
import pandas as pd
import pytest

import deepaudit as da
from deepaudit.reports import render as render_module
from deepaudit.reports import render_html, write_report
from deepaudit.reports.embed import script_json
from deepaudit.reports.layout import MAX_TABLE_ROWS, section_id
from deepaudit.reports.render import FALLBACK_TABLE_ROWS
from deepaudit.reports.views import TableView, anchor, bundle_sections
from tests.reports.helpers import PLANTED, PLANTED_FEATURE, parse_report

SIZE_LIMIT = 6_000_000  # bytes: the issue's "at most 6 MB"
PLOTLY_BANNER = re.compile(r"\* plotly\.js v\d+\.\d+\.\d+")


def without_plotly(html: str) -> str:
    """The report less the embedded plotly.js bundle (whose own strings name its website)."""
    parser = parse_report(html)
    bundle = max((text for attrs, text in parser.scripts if not attrs), key=len)
    assert PLOTLY_BANNER.search(bundle[:300])
    return html.replace(bundle, "")


def test_plotly_is_embedded_once_and_nothing_is_loaded_from_elsewhere(classifier_bundle):
    html = render_html(classifier_bundle)
    parser = parse_report(html)
    assert len(PLOTLY_BANNER.findall(html)) == 1
    assert parser.sources == []  # no <script src>, <img src>, <iframe src>
    assert not any(re.match(r"(?i)\s*(https?:)?//", link) for link in parser.links)
    assert all(link.startswith("#") for link in parser.links)
    rest = without_plotly(html)
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"(?i)url\(|@import|<link\b|<iframe\b|<object\b", rest)


def test_content_security_policy_allows_exactly_the_reports_own_scripts(classifier_bundle):
    parser = parse_report(render_html(classifier_bundle))
    csp = next(
        m["content"] for m in parser.meta if m.get("http-equiv") == "Content-Security-Policy"
    )
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'none'"
    executable = [text for attrs, text in parser.scripts if attrs.get("type") != "application/json"]
    assert len(executable) == 2  # plotly.js and the figure loader
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'"
        for t in executable
    }
    assert set(policy["script-src"].split()) == hashes
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in csp


def test_numbers_in_the_report_equal_those_in_the_bundle(classifier_bundle):
    html = render_html(classifier_bundle)
    parser = parse_report(html)
    result = classifier_bundle["overview"]
    metrics = {
        row["Metric"]["text"]: row["Value"]
        for row in parser.table_rows(anchor("overview", "metrics") + "-table")
    }
    for name in ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier", "ece"):
        assert float(metrics[name]["exact"]) == result.metrics[name]  # exact
        assert metrics[name]["text"] == f"{result.metrics[name]:.3g}"  # 3 significant digits
    per_class = parser.table_rows(anchor("overview", "per_class") + "-table")
    assert [r["Class"]["text"] for r in per_class] == ["no", "yes"]
    for shown, row in zip(per_class, result.tables["per_class"], strict=True):
        assert float(shown["Recall"]["exact"]) == row["recall"]
        assert int(shown["Support"]["exact"]) == row["support"]
    cost = parser.table_rows("cost-families-table")
    assert float(cost[0]["Seconds"]["exact"]) == result.seconds
    # the severity counts in the header
    counts = re.findall(r'data-severity="(\w+)">(\d+) \1<', html)
    expected = {
        s: sum(f.severity == s for f in classifier_bundle.findings) for s in da.results.SEVERITIES
    }
    assert {s: int(n) for s, n in counts} == expected


def test_figure_data_equals_the_bundle(classifier_bundle):
    parser = parse_report(render_html(classifier_bundle))
    blocks = {
        a["id"]: json.loads(t) for a, t in parser.scripts if a.get("type") == "application/json"
    }
    figures = [b for key, b in blocks.items() if key.startswith("figure-data-")]
    heat = next(f for f in figures if f["data"][0]["type"] == "heatmap")
    matrix = classifier_bundle["overview"].arrays["confusion_matrix"]
    text = heat["data"][0]["text"]
    if isinstance(text, dict):  # plotly's typed-array encoding
        text = np.frombuffer(base64.b64decode(text["bdata"]), dtype=text["dtype"]).reshape(
            text["shape"] if isinstance(text["shape"], list) else eval_shape(text["shape"])
        )
    np.testing.assert_array_equal(np.asarray(text), matrix)
    assert isinstance(blocks["plotly-templates"], list) and len(blocks["plotly-templates"]) == 1
    assert all(f["template"] == 0 for f in figures)


def eval_shape(shape: str) -> tuple[int, ...]:
    return tuple(int(s) for s in shape.split(","))


def test_header_is_a_model_card(classifier_bundle):
    html = render_html(classifier_bundle)
    prov = classifier_bundle.provenance
    for fact in (
        "tiny-tabular",
        "Ranking loan files for a second human review.",
        prov["created_at"],
        prov["model_sha256"],
        prov["data_sha256"],
        f"torch {prov['versions']['torch']}",
        "income, hours, age, edu",
        "sex (female, male)",
    ):
        assert fact in html, fact
    card = html[html.index('id="model-card"') : html.index(f'id="{section_id("overview")}"')]
    assert re.search(r"<dt>seed</dt><dd>0</dd>", card)
    assert re.search(r"<dt>device</dt><dd>cpu", card)
    assert re.search(r"<dt>model evaluations</dt><dd>\d", card)


def test_issues_come_first_and_their_findings_link_to_their_evidence(classifier_bundle):
    html = render_html(classifier_bundle)
    parser = parse_report(html)
    order = [html.index(f'id="{key}"') for key in ("issues", "model-card", section_id("overview"))]
    assert order == sorted(order)  # the issues, then the model card, then the evidence
    issues = html[order[0] : order[1]]
    checks = re.findall(r'<li class="finding sev-\w+" data-severity="\w+" data-family="\w+" '
                        r'data-check="(\w+)"', issues)  # fmt: skip
    assert sorted(checks) == sorted(f.check for f in classifier_bundle.findings)  # each once
    links = re.findall(r'<a href="#([^"]+)">evidence', issues)
    assert len(links) == len(classifier_bundle.findings)
    assert set(links) <= parser.ids  # every link lands somewhere
    by_check = dict(zip(checks, links, strict=True))
    assert by_check["calibration"] == anchor("overview", "reliability")
    assert by_check["accuracy"] == anchor("overview", "per_class")
    titles = re.findall(r'<li class="issue sev-(\w+)"', issues)
    assert titles == [i.severity for i in classifier_bundle.issues]


def test_every_view_has_its_anchor_and_every_figure_its_data(classifier_bundle):
    html = render_html(classifier_bundle)
    parser = parse_report(html)
    n_figures = 0
    for section in bundle_sections(classifier_bundle):
        assert section_id(section.family) in parser.ids
        for view in section.items:
            assert anchor(section.family, view.key) in parser.ids
            n_figures += type(view).__name__ == "FigureView"
    plots = re.findall(r'<div class="plot" data-figure="([^"]+)"', html)
    assert len(plots) == n_figures == 2
    assert set(plots) <= parser.ids


def test_planted_markup_is_escaped_everywhere(planted_bundle):
    html = render_html(planted_bundle)
    for planted in PLANTED:
        assert planted not in html
    assert "window.__pwned" in html  # the strings are there, as text
    assert (
        html.count("<script")
        == html.count("</script>")
        == 2 + len(re.findall(r'<script type="application/json"', html))
    )
    parser = parse_report(html)
    text = json.dumps([t for _, t in parser.scripts])
    assert str(markupsafe.escape(PLANTED_FEATURE)) in html  # shown, as text
    assert "onerror" not in "".join(parser.links + parser.sources)
    # every JSON block parses back to the planted strings, with no raw "<" inside
    for attrs, body in parser.scripts:
        if attrs.get("type") == "application/json":
            assert "<" not in body and ">" not in body
            json.loads(body)
    assert "__pwned" in text
    # the Markdown card rendered its text, not its link
    assert "example.org" in html and 'href="https://example.org"' not in html


def test_script_json_cannot_close_its_block():
    hostile = {"a": "</script><!-- & \u2028 \u2029 <b>", "n": [1.5, None]}
    text = script_json(hostile)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == hostile


def test_long_tables_show_their_first_rows(classifier_bundle, monkeypatch):
    from deepaudit.reports.views import overview as overview_view

    original = overview_view.overview_view

    def with_long_table(bundle, result):
        section = original(bundle, result)
        frame = pd.DataFrame({"i": range(MAX_TABLE_ROWS + 50)})
        section.items.append(TableView("long", "Long", frame))
        return section

    monkeypatch.setattr(overview_view, "overview_view", with_long_table)
    html = render_html(classifier_bundle)
    rows = parse_report(html).table_rows(anchor("overview", "long") + "-table")
    assert len(rows) == MAX_TABLE_ROWS
    assert rows[-1]["I"]["text"] == str(MAX_TABLE_ROWS - 1)
    assert f"The first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 50} rows" in html
    # over its size budget, the report cuts every table further but keeps its figures
    small = render_html(classifier_bundle, max_bytes=len(html.encode()) - 1)
    parser = parse_report(small)
    assert len(parser.table_rows(anchor("overview", "long") + "-table")) == FALLBACK_TABLE_ROWS
    assert small.count('<div class="plot"') == html.count('<div class="plot"') == 2


@pytest.mark.parametrize("which", ["classifier_bundle", "autoencoder_bundle", "generator_bundle"])
def test_each_kind_renders_within_the_size_limit(which, request, saved):
    bundle = request.getfixturevalue(which)
    path = write_report(saved(bundle))
    assert path.name == "report.html" and path.parent.name == "run"
    size = path.stat().st_size
    assert 4_000_000 < size <= SIZE_LIMIT  # plotly.js is most of it


def test_write_report_is_atomic(classifier_bundle, saved, monkeypatch, tmp_path):
    run = saved(classifier_bundle)
    out = tmp_path / "out" / "report.html"
    write_report(run, out)
    before = out.read_bytes()

    def broken(bundle):
        raise RuntimeError("renderer died")

    monkeypatch.setattr(render_module, "render_html", broken)
    with pytest.raises(RuntimeError, match="renderer died"):
        write_report(run, out)
    assert out.read_bytes() == before
    monkeypatch.undo()

    def replace_fails(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(OSError, match="disk full"):
        write_report(run, out)
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp left


def test_write_report_refuses_a_missing_bundle(tmp_path):
    with pytest.raises(da.errors.BundleError, match="No audit bundle at"):
        write_report(tmp_path / "nothing")


def test_rendering_is_deterministic(classifier_bundle):
    assert render_html(classifier_bundle) == render_html(classifier_bundle)


def test_a_plant_in_the_text_view_and_notes_stays_text(planted_bundle):
    html = render_html(planted_bundle)
    section = html[html.index(f'id="{section_id("planted")}"') :]
    assert "A paragraph naming &lt;script&gt;" in section
    assert "Note about &lt;script&gt;" in section
    assert PLANTED_FEATURE not in section


def test_a_broken_view_costs_its_section_its_figures_not_the_report(planted_bundle, monkeypatch):
    def broken(bundle, result):
        raise ValueError("no such column 'x'")

    monkeypatch.setattr("tests.reports.helpers.planted_view", broken)
    html = render_html(planted_bundle)
    parser = parse_report(html)
    assert anchor("planted", "view-error") in parser.ids
    assert "ValueError: no such column &#39;x&#39;." in html
    groups = parser.table_rows(anchor("planted", "groups") + "-table")  # the generic view
    assert [float(r["Rate"]["exact"]) for r in groups] == [0.5, 0.25]
    assert html.count('<div class="plot"') == 2  # overview's figures are still drawn


def test_figure_labels_from_data_are_inert_in_the_embedded_json(planted_bundle):
    from deepaudit.reports.views.base import inert
    from tests.reports.helpers import PLANTED_LINK

    html = render_html(planted_bundle)
    blocks = [t for a, t in parse_report(html).scripts if a.get("type") == "application/json"]
    assert not any("<a href" in block or "\\u003ca href" in block for block in blocks)
    assert inert(PLANTED_LINK) == '&lt;a href="http://host.invalid/x">sex&lt;/a>'
    assert inert("a<br>b <b>c</b> <extra></extra> <span style='x'>") == (
        "a<br>b <b>c</b> <extra></extra> &lt;span style='x'>"
    )
