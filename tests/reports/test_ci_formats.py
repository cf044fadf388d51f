"""The findings as JUnit XML and SARIF 2.1.0 (issue 17, CI gates): both parse, and both
hold one entry per finding, named by its stable id."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import jsonschema
import pytest

import deepaudit as da
from deepaudit.errors import ValidationError
from deepaudit.reports import junit_xml, sarif, write_junit, write_sarif
from deepaudit.reports.ci import (
    FINGERPRINT_KEY,
    INCOMPLETE_CASE,
    SARIF_SCHEMA,
    artifact_location,
    rule_id,
    xml_text,
)
from deepaudit.results import Evidence, FamilyResult, Finding

HOSTILE = '<script>alert("x")</script> ]]> a & b \x00 nul \x1b[31m red \'single\' "double"'
HOSTILE_GROUP = 'sex=<f> & "x" ]]>\x1b'
#: What of HOSTILE survives in XML: every character but the two XML 1.0 forbids.
HOSTILE_TEXT = HOSTILE.replace("\x00", "").replace("\x1b", "")

#: Which severities fail the build under each ``fail_on``.
FAILING = {
    "fail": {"fail"},
    "warn": {"fail", "warn"},
    "inconclusive": {"fail", "warn", "inconclusive"},
}


def handmade_bundle(incomplete: dict | None = None) -> da.AuditBundle:
    """Three families with every severity, two findings of one check (told apart by
    subject), hostile strings in a message, a group and a subject."""
    overview = FamilyResult(
        "overview",
        findings=[
            Finding("overview", "accuracy", "pass", "Accuracy is fine.", Evidence("accuracy", 0.9)),
            Finding(
                "overview",
                "calibration",
                "warn",
                "ECE is high.",
                Evidence("ece", 0.12, threshold=0.1),
            ),
            Finding(
                "overview", "auc", "inconclusive", "AUC undefined.", Evidence("roc_auc", math.nan)
            ),
        ],
        seconds=1.25,
    )
    fairness = FamilyResult(
        "fairness",
        findings=[
            Finding(
                "fairness",
                "demographic parity",
                "fail",
                HOSTILE,
                Evidence("dp_gap", 0.3, interval=(0.2, 0.4), threshold=0.1, group=HOSTILE_GROUP),
                subject="sex",
            ),
            Finding(
                "fairness",
                "demographic parity",
                "inconclusive",
                "The age gap straddles the threshold.",
                Evidence("dp_gap", 0.1, interval=(0.05, 0.15), threshold=0.1, group="age=2"),
                subject="age",
            ),
            Finding(
                "fairness",
                "equalised odds",
                "pass",
                "Fine.",
                Evidence("eo_gap", 0.01),
                subject=HOSTILE,
            ),
        ],
        seconds=math.nan,
    )
    robustness = FamilyResult(
        "robustness",
        findings=[
            Finding(
                "robustness", "fgsm", "fail", "Flips 40% of labels.", Evidence("flip_rate", 0.4)
            ),
            Finding("robustness", "noise", "warn", "Noise hurts.", Evidence("drop", 0.05)),
        ],
        seconds=0.5,
    )
    provenance = {"seed": 0, "model_sha256": "a" * 64, "data_sha256": "b" * 64}
    if incomplete is not None:
        provenance["incomplete"] = incomplete
    return da.AuditBundle(
        target={"name": "tiny <model>", "kind": "classifier", "modality": "tabular"},
        provenance=provenance,
        config={"families": ["overview", "fairness", "robustness"]},
        families={"overview": overview, "fairness": fairness, "robustness": robustness},
    )


STOPPED = {
    "stopped_in": "robustness",
    "error": "ModelCallError: <boom> \x00",
    "not_run": ["explain"],
}


def cases_of(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in root.iter("testcase")}


def assert_counts_match(element: ET.Element) -> None:
    cases = list(element.iter("testcase"))
    assert int(element.get("tests")) == len(cases)
    for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        assert int(element.get(attribute)) == sum(c.find(tag) is not None for c in cases)
    assert float(element.get("time")) >= 0


# -- JUnit --------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_on", ["fail", "warn", "inconclusive"])
def test_junit_has_one_case_per_finding_failing_as_fail_on_says(fail_on):
    bundle = handmade_bundle()
    root = ET.fromstring(junit_xml(bundle, fail_on=fail_on))
    assert root.tag == "testsuites"
    cases = cases_of(root)
    assert sorted(cases) == sorted(f.id for f in bundle.findings)
    assert len(list(root.iter("testcase"))) == len(bundle.findings)
    for finding in bundle.findings:
        case = cases[finding.id]
        assert case.get("classname") == f"deepaudit.{rule_id(finding)}"
        failure, skipped = case.find("failure"), case.find("skipped")
        assert (failure is not None) == (finding.severity in FAILING[fail_on])
        assert (skipped is not None) == (
            finding.severity == "inconclusive" and fail_on != "inconclusive"
        )
        assert case.find("error") is None
        if failure is not None:
            assert failure.get("type") == finding.severity
            assert failure.get("message") == xml_text(finding.message)
        assert xml_text(finding.message) in case.find("system-out").text
    assert_counts_match(root)
    for suite in root.findall("testsuite"):
        assert_counts_match(suite)


def test_junit_has_a_suite_per_family_with_its_seconds():
    root = ET.fromstring(junit_xml(handmade_bundle()))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["deepaudit.overview", "deepaudit.fairness", "deepaudit.robustness"]
    assert suites["deepaudit.overview"].get("time") == "1.250"
    assert suites["deepaudit.fairness"].get("time") == "0.000"  # NaN seconds: unknown
    assert root.get("time") == "1.750"
    assert suites["deepaudit.fairness"].get("failures") == "1"
    assert suites["deepaudit.fairness"].get("skipped") == "1"


def test_junit_default_gate_fails_only_fail_findings_and_passes_warns_with_output():
    bundle = handmade_bundle()
    cases = cases_of(ET.fromstring(junit_xml(bundle)))
    warn = next(f for f in bundle.findings if f.severity == "warn")
    assert list(cases[warn.id]) == [cases[warn.id].find("system-out")]
    assert warn.message in cases[warn.id].find("system-out").text
    inconclusive = next(f for f in bundle.findings if f.severity == "inconclusive")
    assert cases[inconclusive.id].find("skipped").get("message") == inconclusive.message


def test_junit_hostile_strings_round_trip_as_text():
    bundle = handmade_bundle()
    text = junit_xml(bundle)
    assert "<script>" not in text and "\x00" not in text and "\x1b" not in text
    hostile = next(f for f in bundle.findings if f.message == HOSTILE)
    case = cases_of(ET.fromstring(text))[hostile.id]
    failure = case.find("failure")
    assert failure.get("message") == HOSTILE_TEXT
    assert HOSTILE_GROUP.replace("\x1b", "") in failure.text
    assert f"[fail] {HOSTILE_TEXT}\n" in case.find("system-out").text
    subject = next(f for f in bundle.findings if f.subject == HOSTILE)
    assert f"subject: {HOSTILE_TEXT}" in cases_of(ET.fromstring(text))[subject.id][0].text


def test_xml_text_removes_exactly_what_xml_forbids():
    allowed = "tab\t lf\n cr\r é ☃ \U0001f600 \ue000"
    assert xml_text(allowed) == allowed
    assert xml_text("a\x00b\x08c\x0bd\x1fe\ufffef\uffffg\ud800h") == "abcdefgh"


def test_an_incomplete_run_adds_an_error_case():
    bundle = handmade_bundle(incomplete=STOPPED)
    root = ET.fromstring(junit_xml(bundle, fail_on="warn"))
    suite = root.findall("testsuite")[-1]
    assert suite.get("name") == "deepaudit"
    (case,) = suite.findall("testcase")
    assert case.get("name") == INCOMPLETE_CASE
    assert case.find("error").get("message") == xml_text(bundle.incomplete_text)
    assert "<boom>" in case.find("error").get("message")
    assert root.get("errors") == "1" and suite.get("errors") == "1"
    assert len(list(root.iter("testcase"))) == len(bundle.findings) + 1
    assert_counts_match(root)
    assert_counts_match(suite)


def test_a_complete_run_has_no_error_case():
    root = ET.fromstring(junit_xml(handmade_bundle()))
    assert INCOMPLETE_CASE not in cases_of(root) and root.get("errors") == "0"


def test_a_bundle_without_findings_is_an_empty_but_valid_report():
    bundle = da.AuditBundle(target={"name": "t"}, provenance={}, config={})
    root = ET.fromstring(junit_xml(bundle))
    assert root.get("tests") == "0" and root.findall("testsuite") == []
    assert json.loads(sarif(bundle))["runs"][0]["results"] == []


@pytest.mark.parametrize("call", [junit_xml, sarif])
def test_an_unknown_fail_on_is_refused_with_the_one_parameter_message(call):
    with pytest.raises(ValidationError) as caught:
        call(handmade_bundle(), fail_on="error")
    assert str(caught.value) == (
        f"The 'fail_on' parameter of {call.__name__} must be one of 'fail', 'warn', "
        "'inconclusive'. Got 'error' instead."
    )


# -- SARIF --------------------------------------------------------------------------------

#: A subset of SARIF 2.1.0 (written from the spec, not downloaded): what every log must
#: have, and the fields this module promises on every result.
SARIF_SUBSET = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "version", "rules"],
                                "properties": {
                                    "name": {"const": "deepaudit"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription"],
                                            "properties": {
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                }
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "invocations": {
                        "type": "array",
                        "items": {"type": "object", "required": ["executionSuccessful"]},
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "ruleId",
                                "kind",
                                "level",
                                "message",
                                "locations",
                                "partialFingerprints",
                                "properties",
                            ],
                            "properties": {
                                "kind": {
                                    "enum": [
                                        "notApplicable",
                                        "pass",
                                        "fail",
                                        "review",
                                        "open",
                                        "informational",
                                    ]
                                },
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string"}},
                                },
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "anyOf": [
                                            {"required": ["logicalLocations"]},
                                            {"required": ["physicalLocation"]},
                                        ],
                                    },
                                },
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                            # §3.27.10: a level other than "none" only with kind "fail".
                            "if": {
                                "properties": {"kind": {"not": {"const": "fail"}}},
                            },
                            "then": {"properties": {"level": {"const": "none"}}},
                        },
                    },
                },
            },
        },
    },
}

EXPECTED = {  # (kind, level) of each severity, by fail_on
    "fail": {
        "fail": ("fail", "error"),
        "warn": ("fail", "warning"),
        "inconclusive": ("review", "none"),
        "pass": ("pass", "none"),
    },
    "warn": {
        "fail": ("fail", "error"),
        "warn": ("fail", "error"),
        "inconclusive": ("review", "none"),
        "pass": ("pass", "none"),
    },
    "inconclusive": {
        "fail": ("fail", "error"),
        "warn": ("fail", "error"),
        "inconclusive": ("fail", "error"),
        "pass": ("pass", "none"),
    },
}


def strict_loads(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("fail_on", ["fail", "warn", "inconclusive"])
def test_sarif_holds_one_result_per_finding_with_levels_from_severities(fail_on):
    bundle = handmade_bundle()
    log = strict_loads(sarif(bundle, fail_on=fail_on))
    jsonschema.validate(log, SARIF_SUBSET)
    assert log["$schema"] == SARIF_SCHEMA and log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "deepaudit" and driver["version"] == da.__version__
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert (
        len(rule_ids) == len(set(rule_ids)) == len({(f.family, f.check) for f in bundle.findings})
    )
    assert "fairness.demographic-parity" in rule_ids
    results = run["results"]
    assert len(results) == len(bundle.findings)
    for finding, result in zip(bundle.findings, results, strict=True):
        assert result["ruleId"] in rule_ids and result["ruleId"] == rule_id(finding)
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert (result["kind"], result["level"]) == EXPECTED[fail_on][finding.severity]
        assert result["partialFingerprints"] == {FINGERPRINT_KEY: finding.id}
        assert result["message"]["text"] == finding.message
        props = result["properties"]
        assert props["severity"] == finding.severity and props["family"] == finding.family
        assert props["metric"] == finding.evidence.metric
        assert props["group"] == finding.evidence.group
        assert props["threshold"] == finding.evidence.threshold
        assert result["locations"] == [
            {"logicalLocations": [{"name": "tiny <model>", "kind": "module"}]}
        ]


def test_sarif_keeps_hostile_strings_and_writes_nan_as_null():
    bundle = handmade_bundle()
    text = sarif(bundle)
    results = strict_loads(text)["runs"][0]["results"]
    by_id = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in results}
    hostile = next(f for f in bundle.findings if f.message == HOSTILE)
    assert by_id[hostile.id]["message"]["text"] == HOSTILE  # JSON escapes, nothing lost
    assert by_id[hostile.id]["properties"]["group"] == HOSTILE_GROUP
    assert by_id[hostile.id]["properties"]["interval"] == [0.2, 0.4]
    auc = next(f for f in bundle.findings if f.check == "auc")
    assert by_id[auc.id]["properties"]["value"] is None


def test_sarif_run_properties_carry_provenance_and_incompleteness():
    complete = strict_loads(sarif(handmade_bundle()))["runs"][0]
    assert complete["properties"]["model_sha256"] == "a" * 64
    assert complete["properties"]["data_sha256"] == "b" * 64
    assert complete["properties"]["bundle_sha256"] is None  # never saved
    assert complete["properties"]["incomplete"] is None
    assert complete["invocations"] == [{"executionSuccessful": True}]
    bundle = handmade_bundle(incomplete=STOPPED)
    stopped = strict_loads(sarif(bundle))["runs"][0]
    assert stopped["properties"]["incomplete"]["stopped_in"] == "robustness"
    (invocation,) = stopped["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == bundle.incomplete_text


def test_artifact_location_is_relative_to_the_repository_root(tmp_path, monkeypatch):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    run = tmp_path / "repo" / "runs" / "cnn"
    run.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    expected = {"uri": "runs/cnn/bundle.json", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(run) == expected
    assert artifact_location(run / "bundle.json") == expected
    outside = tmp_path / "elsewhere" / "run"
    outside.mkdir(parents=True)
    assert artifact_location(outside) == {"uri": "elsewhere/run/bundle.json"}
    monkeypatch.chdir(run)
    assert artifact_location(outside) == {"uri": (outside / "bundle.json").as_uri()}


def test_written_files_are_the_strings_and_return_their_paths(tmp_path):
    bundle = handmade_bundle()
    junit_path = write_junit(bundle, tmp_path / "ci" / "audit.xml", fail_on="warn")
    sarif_path = write_sarif(bundle, tmp_path / "ci" / "audit.sarif", fail_on="warn")
    assert junit_path == tmp_path / "ci" / "audit.xml"
    assert sarif_path == tmp_path / "ci" / "audit.sarif"
    assert junit_path.read_text(encoding="utf-8") == junit_xml(bundle, fail_on="warn") + "\n"
    assert sarif_path.read_text(encoding="utf-8") == sarif(bundle, fail_on="warn") + "\n"
    assert ET.parse(junit_path).getroot().get("failures") == "4"
    assert sorted(p.name for p in (tmp_path / "ci").iterdir()) == ["audit.sarif", "audit.xml"]


# -- a real audit -------------------------------------------------------------------------


def test_a_real_audit_gives_one_entry_per_finding_in_both_formats(tabular_target, tmp_path):
    bundle = da.run_audit(
        tabular_target, da.AuditConfig(families=["overview", "fairness"], progress=False)
    )
    folder = bundle.save(tmp_path / "run")
    ids = [f.id for f in bundle.findings]
    assert len(ids) == len(set(ids)) > 0
    root = ET.parse(write_junit(bundle, tmp_path / "audit.xml")).getroot()
    assert sorted(cases_of(root)) == sorted(ids)
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "deepaudit.overview",
        "deepaudit.fairness",
    ]
    assert_counts_match(root)
    for suite in root.findall("testsuite"):
        assert_counts_match(suite)
    assert int(root.get("failures")) == sum(f.severity == "fail" for f in bundle.findings)
    log = strict_loads(
        write_sarif(bundle, tmp_path / "audit.sarif", artifact=folder).read_text(encoding="utf-8")
    )
    jsonschema.validate(log, SARIF_SUBSET)
    (run,) = log["runs"]
    assert [r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]] == ids
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} == rule_ids
    assert run["properties"]["bundle_sha256"] == bundle.source_sha256
    assert run["properties"]["model_sha256"] == bundle.provenance["model_sha256"]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("run/bundle.json")
