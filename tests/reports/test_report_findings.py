"""The findings as JSON (for CI) and Markdown (for pull-request comments)."""

from __future__ import annotations

import json
import math

import pytest

import deepaudit as da
from deepaudit.reports import (
    findings_document,
    findings_json,
    findings_markdown,
    severity_counts,
    write_findings,
)
from deepaudit.reports.findings import FINDINGS_SCHEMA, format_number, md_escape
from deepaudit.results import Evidence, FamilyResult, Finding
from tests.reports.helpers import PLANTED_CLASS, PLANTED_FEATURE, PLANTED_GROUP


def strict_loads(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_holds_every_finding_worst_first_with_counts(classifier_bundle):
    document = strict_loads(findings_json(classifier_bundle))
    assert document["schema"] == FINDINGS_SCHEMA and document["schema_version"] == 3
    assert document["model"] == "tiny-tabular"
    assert document["model_sha256"] == classifier_bundle.provenance["model_sha256"]
    found = classifier_bundle.findings
    assert [f["check"] for f in document["findings"]] == [f.check for f in found]
    assert [f["message"] for f in document["findings"]] == [f.message for f in found]
    assert [f["id"] for f in document["findings"]] == [f.id for f in found]
    assert document["findings"][0]["id"].startswith("overview.")
    assert document["findings"][0]["evidence"]["value"] == found[0].evidence.value
    assert document["counts"] == {
        s: sum(f.severity == s for f in found) for s in ("fail", "warn", "inconclusive", "pass")
    }
    assert document["worst_severity"] == classifier_bundle.worst_severity
    assert document["families"]["overview"]["n_findings"] == len(found)
    assert document["families"]["overview"]["seconds"] == classifier_bundle["overview"].seconds


def nan_bundle() -> da.AuditBundle:
    result = FamilyResult(
        "overview",
        findings=[
            Finding(
                "overview", "auc", "inconclusive", "AUC undefined.", Evidence("roc_auc", math.nan)
            ),
            Finding("overview", "acc", "pass", "Fine.", Evidence("accuracy", 0.9, (0.8, math.inf))),
        ],
        seconds=math.nan,
    )
    return da.AuditBundle(
        target={"name": "n", "kind": "classifier", "modality": "tabular"},
        provenance={"seed": 0, "seconds": 1.0, "device": "cpu"},
        config={},
        families={"overview": result},
    )


def test_json_is_strict_nan_and_infinity_become_null():
    document = strict_loads(findings_json(nan_bundle()))
    assert document["findings"][0]["evidence"]["value"] is None
    assert document["findings"][1]["evidence"]["interval"] == [0.8, None]
    assert document["families"]["overview"]["seconds"] is None
    assert document["families"]["overview"]["worst_severity"] == "inconclusive"


def test_markdown_is_a_table_of_the_findings_worst_first(classifier_bundle):
    text = findings_markdown(classifier_bundle)
    lines = text.splitlines()
    assert lines[0].startswith("### ") and "tiny-tabular" in lines[0]
    assert f"worst finding: {classifier_bundle.worst_severity}" in lines[0]
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(classifier_bundle.findings)
    for row, finding in zip(rows, classifier_bundle.findings, strict=True):
        cells = [c.strip() for c in row.split(" | ")]
        assert cells[1] == finding.severity
        assert cells[3] == md_escape(finding.message)
    counts = severity_counts(classifier_bundle)
    assert " · ".join(f"{n} {s}" for s, n in counts.items()) in lines[2]


def test_markdown_escapes_what_would_format_link_or_inject(planted_bundle):
    text = findings_markdown(planted_bundle)
    for planted in (PLANTED_FEATURE, PLANTED_GROUP, PLANTED_CLASS):
        assert planted not in text
    assert "<" not in text and ">" not in text.replace("&gt;", "")
    assert "&lt;script&gt;window.\\_\\_pwned" in text
    hostile = "a | b [click](https://x.org) *bold* `code` ~~gone~~ \\ end\nnext"
    escaped = md_escape(hostile)
    assert "\n" not in escaped
    assert escaped == (  # the bare URL left would autolink: a word joiner breaks it
        "a \\| b \\[click\\](https:\u2060//x.org) \\*bold\\* \\`code\\` \\~\\~gone\\~\\~ \\\\ end next"
    )
    # every row keeps its five cells: no planted "|" splits one
    for line in text.splitlines():
        if line.startswith("| "):
            assert len([c for c in line.replace("\\|", "").split("|")]) == 7


def test_markdown_without_findings_says_so():
    bundle = da.AuditBundle(target={"name": "x"}, provenance={}, config={}, families={})
    assert findings_markdown(bundle).rstrip().endswith("No findings.")
    assert findings_document(bundle)["worst_severity"] == "pass"


def test_write_findings_writes_both_files(classifier_bundle, tmp_path):
    written = write_findings(classifier_bundle, tmp_path / "f.json", tmp_path / "sub" / "f.md")
    assert written == [tmp_path / "f.json", tmp_path / "sub" / "f.md"]
    assert strict_loads(written[0].read_text()) == findings_document(classifier_bundle)
    assert written[1].read_text() == findings_markdown(classifier_bundle)
    assert write_findings(classifier_bundle) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3, "3"), (2.0, "2"), (0.123456, "0.1235"), (1234567.0, "1234567"), (1e-7, "1e-07"),
     (math.nan, "NaN"), (math.inf, "∞"), (True, "True"), ("x", "x")],
)  # fmt: skip
def test_format_number(value, shown):
    assert format_number(value) == shown


def test_markdown_from_data_makes_no_link_mention_or_reference():
    from deepaudit.reports.findings import WORD_JOINER, md_escape

    text = "see http://host.example/x, www.host.example, @octocat, a@b.com and #12"
    escaped = md_escape(text)
    for live in ("http://", "www.h", "@o", "@b", "#1"):
        assert live not in escaped, live
    assert escaped.replace(WORD_JOINER, "") == text  # it reads the same
    from deepaudit.dashboard.render import md_escape as dashboard_escape

    shown = dashboard_escape(text)
    for live in ("http://", "http\\://", "www.h", "www\\.h", "@o", "#1"):
        assert live not in shown, live
