"""The findings of an audit as JUnit XML and SARIF 2.1.0, the two formats CI systems gate on.

::

    from deepaudit.reports import write_junit, write_sarif
    write_junit(bundle, "audit.junit.xml", fail_on="warn")   # a test case per finding
    write_sarif(bundle, "audit.sarif", artifact="runs/cnn")   # code-scanning alerts

Both hold one entry per finding, named by its stable :attr:`~deepaudit.results.Finding.id`,
so a CI system tracks a check across runs. ``fail_on`` says which severities break the
build: ``"fail"`` (only failures), ``"warn"`` (failures and warnings) or ``"inconclusive"``
(everything but a pass). Only the standard library is used; no torch.
"""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepaudit._version import __version__
from deepaudit.errors import parameter_error
from deepaudit.reports._io import atomic_write_text
from deepaudit.reports.findings import _strict, evidence_summary
from deepaudit.results import SEVERITY_RANK, slug, to_plain
from deepaudit.run_folder import BUNDLE_FILE

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult, Finding

#: The severities ``fail_on`` accepts: a finding at least this bad fails the build.
FAIL_ON = ("fail", "warn", "inconclusive")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: The suite and test case an incomplete run adds, as an error (it did not finish).
INCOMPLETE_SUITE = "deepaudit"
INCOMPLETE_CASE = "deepaudit.incomplete"
#: The partial fingerprint that carries a finding's stable id (SARIF §3.27.17).
FINGERPRINT_KEY = "deepauditFindingId/v1"

# What XML 1.0 cannot hold, even escaped: C0 controls but tab, LF and CR; surrogates;
# U+FFFE and U+FFFF. A parser refuses a file that holds one, so they are removed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def junit_xml(bundle: AuditBundle, *, fail_on: str = "fail") -> str:
    """The findings as JUnit XML: a test suite per family, a test case per finding.

    A finding at least as bad as ``fail_on`` is a ``<failure>``; an ``inconclusive``
    one that is not is ``<skipped>``; the rest pass. Every case's ``<system-out>``
    holds the finding's message and evidence. An incomplete run adds an ``<error>``
    case, :data:`INCOMPLETE_CASE`, so a CI gate cannot pass a run that stopped.
    """
    fail_on = _checked_fail_on(fail_on, "junit_xml")
    root = ET.Element("testsuites", name="deepaudit")
    for name, result in bundle.families.items():
        root.append(_family_suite(name, result, fail_on))
    if bundle.incomplete_text is not None:
        root.append(_incomplete_suite(bundle.incomplete_text))
    _count(root, root.findall("testsuite"), seconds=_total_seconds(bundle))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def sarif(
    bundle: AuditBundle,
    *,
    fail_on: str = "fail",
    artifact: str | os.PathLike | None = None,
) -> str:
    """The findings as a SARIF 2.1.0 log: one run, one rule per check, one result per finding.

    Passes are results too (``kind: "pass"``), so the log holds every check. ``fail_on``
    raises the findings at least that bad to ``level: "error"``, the level code-scanning
    gates on. ``artifact`` (the run folder or its ``bundle.json``) gives each result a
    physical location, relative to the repository root when the folder lies in one.
    """
    fail_on = _checked_fail_on(fail_on, "sarif")
    rules = _rules(bundle.findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    location = _location(bundle, artifact)
    results = [_result(f, fail_on, index, location) for f in bundle.findings]
    run = {
        "tool": {
            "driver": {
                "name": "deepaudit",
                "version": __version__,
                "rules": rules,
            }
        },
        "invocations": [_invocation(bundle)],
        "results": results,
        "properties": _run_properties(bundle),
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    plain = _strict(to_plain(log, default=str))  # numpy scalars as numbers, NaN as null
    return json.dumps(plain, indent=2, ensure_ascii=False, allow_nan=False)


def write_junit(bundle: AuditBundle, path: str | os.PathLike, *, fail_on: str = "fail") -> Path:
    """Write :func:`junit_xml` to ``path`` atomically; return the path."""
    return atomic_write_text(path, junit_xml(bundle, fail_on=fail_on) + "\n")


def write_sarif(
    bundle: AuditBundle,
    path: str | os.PathLike,
    *,
    fail_on: str = "fail",
    artifact: str | os.PathLike | None = None,
) -> Path:
    """Write :func:`sarif` to ``path`` atomically; return the path."""
    return atomic_write_text(path, sarif(bundle, fail_on=fail_on, artifact=artifact) + "\n")


def rule_id(finding: Finding) -> str:
    """``family.check``, slugged as in :attr:`Finding.id`: the rule a finding is a result of."""
    return f"{slug(finding.family)}.{slug(finding.check)}"


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold: the characters it forbids removed (escaping
    ``<``, ``&`` and quotes is ElementTree's job)."""
    return _NOT_XML.sub("", str(value))


def counts_as_failure(severity: str, fail_on: str) -> bool:
    """Whether a finding of ``severity`` fails the build under ``fail_on``."""
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[fail_on]


def _checked_fail_on(fail_on: str, owner: str) -> str:
    if fail_on not in FAIL_ON:
        raise parameter_error("fail_on", owner, "one of " + ", ".join(map(repr, FAIL_ON)), fail_on)
    return fail_on


# -- JUnit --------------------------------------------------------------------------------


def _family_suite(name: str, result: FamilyResult, fail_on: str) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(f"deepaudit.{slug(name)}"))
    cases = [_case(f, fail_on) for f in result.findings]
    suite.extend(cases)
    _count(suite, cases, seconds=result.seconds)
    return suite


def _case(finding: Finding, fail_on: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=xml_text(f"deepaudit.{rule_id(finding)}"),
        name=xml_text(finding.id),
    )
    evidence = xml_text(evidence_summary(finding))
    if counts_as_failure(finding.severity, fail_on):
        failure = ET.SubElement(
            case, "failure", type=finding.severity, message=xml_text(finding.message)
        )
        failure.text = evidence
    elif finding.severity == "inconclusive":
        ET.SubElement(case, "skipped", message=xml_text(finding.message)).text = evidence
    ET.SubElement(case, "system-out").text = xml_text(_case_output(finding))
    return case


def _case_output(finding: Finding) -> str:
    lines = [f"[{finding.severity}] {finding.message}", f"evidence: {evidence_summary(finding)}"]
    if finding.subject:
        lines.append(f"subject: {finding.subject}")
    return "\n".join(lines)


def _incomplete_suite(text: str) -> ET.Element:
    suite = ET.Element("testsuite", name=INCOMPLETE_SUITE)
    case = ET.SubElement(suite, "testcase", classname=INCOMPLETE_SUITE, name=INCOMPLETE_CASE)
    ET.SubElement(case, "error", type="incomplete", message=xml_text(text)).text = xml_text(text)
    _count(suite, [case], seconds=0.0)
    return suite


def _count(element: ET.Element, children: Iterable[ET.Element], *, seconds: float) -> None:
    """Set ``tests``, ``failures``, ``errors``, ``skipped`` and ``time`` on a suite (or the
    root) from the test cases under ``children``, so the counts always match them."""
    cases = [c for child in children for c in child.iter("testcase")]
    element.set("tests", str(len(cases)))
    for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        element.set(attribute, str(sum(c.find(tag) is not None for c in cases)))
    element.set("time", _seconds_text(seconds))


def _total_seconds(bundle: AuditBundle) -> float:
    return sum(r.seconds for r in bundle.families.values() if math.isfinite(r.seconds))


def _seconds_text(seconds: float) -> str:
    """A JUnit ``time``: non-negative seconds, ``0`` for a missing (NaN) duration."""
    seconds = float(seconds)
    return f"{seconds:.3f}" if math.isfinite(seconds) and seconds >= 0 else "0.000"


# -- SARIF --------------------------------------------------------------------------------

#: ``kind`` (§3.27.9) and ``level`` (§3.27.10) of each severity. SARIF allows a level other
#: than ``none`` only with ``kind: "fail"``; an inconclusive check needs a human ("review").
_SARIF_KIND = {"fail": "fail", "warn": "fail", "inconclusive": "review", "pass": "pass"}
_SARIF_LEVEL = {"fail": "error", "warn": "warning", "inconclusive": "none", "pass": "none"}


def sarif_kind_and_level(severity: str, fail_on: str = "fail") -> tuple[str, str]:
    """The SARIF ``kind`` and ``level`` of a finding: a finding that fails the build under
    ``fail_on`` is ``("fail", "error")``, whatever its severity."""
    if counts_as_failure(severity, fail_on):
        return "fail", "error"
    return _SARIF_KIND[severity], _SARIF_LEVEL[severity]


def _rules(findings: Iterable[Finding]) -> list[dict]:
    """One reporting descriptor per distinct check, in the order they first appear."""
    rules: dict[str, dict] = {}
    for finding in findings:
        rules.setdefault(
            rule_id(finding),
            {
                "id": rule_id(finding),
                "shortDescription": {"text": f"deepaudit {finding.family} check {finding.check!r}"},
                "properties": {"family": finding.family, "check": finding.check},
            },
        )
    return list(rules.values())


def _result(finding: Finding, fail_on: str, index: dict[str, int], location: dict) -> dict:
    kind, level = sarif_kind_and_level(finding.severity, fail_on)
    ev = finding.evidence
    return {
        "ruleId": rule_id(finding),
        "ruleIndex": index[rule_id(finding)],
        "kind": kind,
        "level": level,
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.id},
        "properties": {
            "id": finding.id,
            "severity": finding.severity,
            "family": finding.family,
            "check": finding.check,
            "subject": finding.subject,
            "metric": ev.metric,
            "value": ev.value,
            "interval": None if ev.interval is None else list(ev.interval),
            "threshold": ev.threshold,
            "group": ev.group,
            "evidence": evidence_summary(finding),
        },
    }


def _location(bundle: AuditBundle, artifact: str | os.PathLike | None) -> dict:
    """The model as a logical location and, given the run folder, its bundle.json."""
    location: dict[str, Any] = {
        "logicalLocations": [{"name": str(bundle.target.get("name")), "kind": "module"}]
    }
    if artifact is not None:
        location["physicalLocation"] = {"artifactLocation": artifact_location(artifact)}
    return location


def artifact_location(artifact: str | os.PathLike) -> dict:
    """A SARIF ``artifactLocation`` for a run folder's ``bundle.json``: relative to the
    enclosing git repository (``uriBaseId: "%SRCROOT%"``) when there is one, as code
    scanning resolves it; else relative to the working folder, else an absolute URI."""
    path = Path(artifact).resolve()
    if path.is_dir() or path.suffix != ".json":
        path = path / BUNDLE_FILE
    root = _repository_root(path.parent)
    if root is not None:
        return {"uri": path.relative_to(root).as_posix(), "uriBaseId": "%SRCROOT%"}
    try:
        return {"uri": path.relative_to(Path.cwd().resolve()).as_posix()}
    except ValueError:
        return {"uri": path.as_uri()}


def _repository_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _invocation(bundle: AuditBundle) -> dict:
    """Whether the run finished; a run that stopped says why, as a tool notification."""
    invocation: dict[str, Any] = {"executionSuccessful": bundle.incomplete_text is None}
    if bundle.incomplete_text is not None:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": bundle.incomplete_text}}
        ]
    return invocation


def _run_properties(bundle: AuditBundle) -> dict:
    provenance = bundle.provenance
    return {
        "model": bundle.target.get("name"),
        "model_sha256": provenance.get("model_sha256"),
        "data_sha256": provenance.get("data_sha256"),
        "bundle_sha256": bundle.source_sha256,
        "incomplete": bundle.incomplete,
        "incomplete_text": bundle.incomplete_text,
        "worst_severity": bundle.worst_severity,
    }
