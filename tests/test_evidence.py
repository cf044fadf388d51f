"""A finding's number is the saved result's number: every finding of every family cites
the metric of its name, or a cell of its family's tables, exactly."""

from __future__ import annotations

import pytest

import deepaudit as da
from deepaudit.cli import _applicable_families
from tests.helpers import demo_audits, evidence_mismatches

FAST = {
    "explain": {"n_samples": 6, "progress": False},
    "fairness": {"n_bootstrap": 100},
    "robustness": {"n_samples": 24, "progress": False},
    "generative": {"n_generated": 200, "n_real": 60, "n_bootstrap": 20, "progress": False},
}


@pytest.mark.parametrize(
    "fixture",
    ["tabular_target", "image_target", "text_target", "autoencoder_target", "generator_target"],
)
def test_every_finding_cites_its_results_own_number(fixture, request):
    target = request.getfixturevalue(fixture)
    families = _applicable_families(target, None)
    config = da.AuditConfig(
        families=families,
        options={f: FAST[f] for f in families if f in FAST},
        progress=False,
    )
    bundle = da.run_audit(target, config)
    assert sum(len(r.findings) for r in bundle.families.values()) > 3
    assert evidence_mismatches(bundle) == []


def test_the_check_finds_a_finding_graded_on_other_numbers(tabular_target):
    bundle = da.run_audit(tabular_target, da.AuditConfig(families=["overview"], progress=False))
    result = bundle["overview"]
    accuracy = next(f for f in result.findings if f.check == "accuracy")
    result.metrics["accuracy"] += 0.01  # a metric recomputed after grading
    assert evidence_mismatches(bundle) == [
        f"overview.accuracy: evidence {accuracy.evidence.value!r} but metric accuracy = "
        f"{result.metrics['accuracy']!r}"
    ]


@pytest.mark.slow
def test_every_finding_of_the_demo_cites_its_results_own_number():
    for name, bundle in demo_audits():
        assert evidence_mismatches(bundle) == [], name
