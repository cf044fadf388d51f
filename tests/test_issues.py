"""Issues: findings grouped by what they concern, across families, worst first."""

from __future__ import annotations

import json
import re

import pytest

import deepaudit as da
from deepaudit.errors import ValidationError
from deepaudit.issues import Concern, group_issues
from deepaudit.reports import findings_json, findings_markdown
from deepaudit.results import Evidence, FamilyResult, Finding
from tests.audit.fairness.fairness_toys import group_target


def bundle_of(findings: list[Finding], sensitive=("colour", "cue"), metadata=None):
    families: dict[str, FamilyResult] = {}
    for f in findings:
        families.setdefault(f.family, FamilyResult(f.family)).findings.append(f)
    return da.AuditBundle(
        target={
            "name": "toy",
            "kind": "classifier",
            "modality": "image",
            "sensitive": {name: ["a", "b"] for name in sensitive},
            "metadata": metadata or {},
        },
        provenance={"seed": 0},
        config={},
        families=families,
    )


def gap(check, group, severity="fail"):
    return Finding(
        "fairness", check, severity, f"{check} gap.", Evidence("difference", 0.5, group=group)
    )


CNN_LIKE = [
    gap("demographic_parity", "colour: green vs pink"),
    gap("equalized_odds", "colour: green vs blue"),
    gap("predictive_parity", "colour & cue: green & disagrees vs blue & disagrees"),
    gap("accuracy_parity", "cue: disagrees vs agrees", "inconclusive"),
    Finding(
        "fairness",
        "counterfactual",
        "fail",
        "Recolouring changes predictions.",
        Evidence("changed_share", 0.15, group="colour"),
        subject="colour",
    ),
    Finding("explain", "colour_share", "warn", "27% on colour.", Evidence("colour_share", 0.27)),
    Finding(
        "explain",
        "randomisation",
        "fail",
        "Saliency fails the randomisation check.",
        Evidence("rank_correlation", 0.6, group="saliency"),
    ),
    Finding(
        "robustness",
        "robustness_gap",
        "inconclusive",
        "Robustness bias by cue.",
        Evidence("survival_gap", 0.1, group="cue=disagrees"),
        subject="cue",
    ),
    Finding("robustness", "sanity", "pass", "All sanity checks pass.", Evidence("passed", 5)),
]


def test_findings_about_one_attribute_form_one_issue_across_families():
    bundle = bundle_of(CNN_LIKE, metadata={"derived_attributes": {"cue": "colour"}})
    issues = {i.id: i for i in bundle.issues}
    colour = issues["attribute.colour"]
    assert colour.severity == "fail"
    ids = {f.id for f in bundle.findings}
    assert set(colour.findings) == ids - {"explain.randomisation", "robustness.sanity"}
    assert {f.family for f in bundle.findings if f.id in colour.findings} == {
        "fairness",
        "explain",
        "robustness",
    }
    assert issues["method.saliency"].findings == ("explain.randomisation",)
    assert issues["check.robustness-sanity"].severity == "pass"
    assert colour.counts == {"fail": 4, "warn": 1, "inconclusive": 2, "pass": 0}
    assert "'colour'" in colour.title and "changing it changes predictions" in colour.title
    assert "Decide whether 'colour'" in colour.next_step


def test_every_finding_sits_in_exactly_one_issue_and_issues_come_worst_first():
    bundle = bundle_of(CNN_LIKE, metadata={"derived_attributes": {"cue": "colour"}})
    issues = bundle.issues
    listed = [i for issue in issues for i in issue.findings]
    assert sorted(listed) == sorted(f.id for f in bundle.findings)
    ranks = [("fail", "warn", "inconclusive", "pass").index(i.severity) for i in issues]
    assert ranks == sorted(ranks)


def test_without_the_derivation_the_cue_is_its_own_issue():
    issues = {i.id: i for i in bundle_of(CNN_LIKE).issues}
    assert set(issues["attribute.cue"].findings) == {
        "fairness.accuracy_parity",
        "robustness.robustness_gap.cue",
    }
    # the intersection joins colour: its own findings (fail) are worse than cue's
    assert "fairness.predictive_parity" in issues["attribute.colour"].findings


def test_an_intersection_joins_the_attribute_whose_own_findings_are_worst():
    findings = [
        gap("demographic_parity", "sex & race: f & b vs m & a"),
        gap("equal_opportunity", "race: b vs a", "warn"),
        gap("accuracy_parity", "sex: f vs m", "pass"),
    ]
    issues = {i.id: i for i in bundle_of(findings, sensitive=("sex", "race")).issues}
    assert "fairness.demographic_parity" in issues["attribute.race"].findings
    assert issues["attribute.sex"].severity == "pass"


def test_a_concern_of_an_unknown_kind_is_refused_with_the_kinds():
    expected = (
        "The 'kind' parameter of Concern must be one of 'attribute', 'feature', 'region', "
        "'class', 'method', 'data', 'check'. Got 'colourway' instead."
    )
    with pytest.raises(ValidationError, match=re.escape(expected)):
        Concern("colourway", "x")


def test_findings_json_lists_the_issues_with_the_ids_of_their_findings():
    bundle = bundle_of(CNN_LIKE, metadata={"derived_attributes": {"cue": "colour"}})
    document = json.loads(findings_json(bundle))
    assert document["schema_version"] == 3
    ids = {f["id"] for f in document["findings"]}
    first = document["issues"][0]
    assert first["id"] == "attribute.colour" and first["severity"] == "fail"
    assert set(first["findings"]) <= ids and first["n_findings"] == 7
    assert [i["id"] for i in document["issues"]] == [i.id for i in group_issues(bundle)]
    markdown = findings_markdown(bundle)
    assert markdown.index("**Issues**") < markdown.index("| | severity |")
    assert "Sensitive attribute 'colour'" in markdown


def _audit(target, seed: int):
    return da.run_audit(
        target,
        da.AuditConfig(
            families=["overview", "fairness", "explain"],
            options={"explain": {"methods": ["integrated_gradients", "kernel_shap"]}},
            seed=seed,
            progress=False,
        ),
    )


def test_a_planted_group_effect_is_one_fail_issue_and_a_clean_control_has_none():
    biased = _audit(group_target(0, n=800, group_weight=3.0, proxy_weight=0.0), seed=0)
    issues = biased.issues
    assert issues[0].id == "attribute.group" and issues[0].severity == "fail"
    families = {f.family for f in biased.findings if f.id in issues[0].findings}
    assert families == {"fairness", "explain"}  # the gaps, the flip and the attribution
    clean = _audit(group_target(0, n=800, group_weight=0.0), seed=0)
    assert [i.id for i in clean.issues if i.severity == "fail"] == []


def test_issue_and_finding_ids_are_the_same_in_another_run_of_the_same_audit():
    target = group_target(1, n=800, group_weight=3.0)
    one, two = _audit(target, seed=0), _audit(target, seed=1)
    assert sorted(f.id for f in one.findings) == sorted(f.id for f in two.findings)
    assert {i.id for i in one.issues} == {i.id for i in two.issues}
    assert len({f.id for f in one.findings}) == len(one.findings)  # unique within a run
