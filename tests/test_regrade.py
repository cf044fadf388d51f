"""Findings are graded from the saved results alone: a bundle re-graded under its own
limits gives back its findings, a stricter limit gives the expected verdict, and the CLI
does it without the model or torch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import deepaudit as da
from deepaudit.errors import DeepAuditError, ValidationError
from deepaudit.grading import changes, parse_limits, regrade
from tests.audit.fairness.fairness_toys import group_target
from tests.test_migration import unpack


def every_family(target: da.Target) -> da.AuditBundle:
    families = [f for f in da.list_families() if da.get_family(f).applies_to(target) is None]
    fast = {
        "explain": {"n_samples": 4, "progress": False},
        "fairness": {"n_bootstrap": 50},
        "robustness": {"n_samples": 20, "query_samples": 4, "n_bootstrap": 50, "progress": False},
        "generative": {"n_generated": 40, "n_real": 40, "n_bootstrap": 20, "progress": False},
    }
    config = da.AuditConfig(
        families=families,
        options={k: v for k, v in fast.items() if k in families},
        progress=False,
    )
    return da.run_audit(target, config)


@pytest.mark.parametrize(
    "fixture",
    ["tabular_target", "image_target", "text_target", "autoencoder_target", "generator_target"],
)
def test_regrading_under_the_saved_limits_gives_back_the_saved_findings(fixture, request, tmp_path):
    bundle = every_family(request.getfixturevalue(fixture))
    bundle.save(tmp_path / "run")
    loaded = da.load_bundle(tmp_path / "run")
    saved = loaded.config["options"]
    same = {  # every family graded again, each limit set to its saved value
        name: {k: saved[name][k] for k in da.get_family(name).config_class.LIMITS}
        for name in loaded.families
    }
    again = regrade(loaded, same)
    for name in bundle.families:
        assert again[name].findings == bundle[name].findings, name
    assert changes(loaded, again) == []
    ids = [f.id for f in bundle.findings]
    assert len(set(ids)) == len(ids)  # a stable id names one finding


@pytest.fixture(scope="module")
def small_gap(tmp_path_factory):
    """A model whose selection rate differs by about 0.04 between two groups of 10,000:
    within the default limit of 0.1, beyond a limit of 0.01."""
    target = group_target(seed=3, n=20_000, group_weight=0.2)
    config = da.AuditConfig(
        families=["fairness"],
        options={"fairness": {"n_bootstrap": 200, "counterfactual": False, "mitigation": False}},
        progress=False,
    )
    path = tmp_path_factory.mktemp("gap") / "run"
    da.run_audit(target, config).save(path)
    return path


def _dp(bundle):
    return next(f for f in bundle["fairness"].findings if f.check == "demographic_parity")


def test_a_stricter_limit_turns_a_small_gap_into_a_fail(small_gap):
    bundle = da.load_bundle(small_gap)
    before = _dp(bundle)
    assert before.severity == "pass"
    low, high = before.evidence.interval
    assert 0.01 < low < high < 0.1
    stricter = regrade(bundle, {"fairness": {"max_difference": 0.01}})
    after = _dp(stricter)
    assert after.severity == "fail" and after.evidence.threshold == 0.01
    assert after.evidence.value == before.evidence.value  # the measurement is unchanged
    assert ("fairness.demographic_parity", "pass", "fail") in changes(bundle, stricter)
    assert stricter.config["options"]["fairness"]["max_difference"] == 0.01
    # the verdicts the tables keep follow the new limit too
    tests = stricter["fairness"].table("disparity_tests")
    row = tests[tests["check"] == "demographic_parity"].iloc[0]
    assert row["severity"] == "fail" and row["threshold"] == 0.01
    assert stricter["fairness"].metrics["n_failed"] > bundle["fairness"].metrics["n_failed"]
    saved_tests = bundle["fairness"].table("disparity_tests")
    differences = saved_tests[saved_tests["limit"] == "max_difference"]
    assert differences["threshold"].eq(0.1).all()  # the saved bundle is untouched
    # a limit between the interval's ends cannot decide
    straddled = regrade(bundle, {"fairness": {"max_difference": (low + high) / 2}})
    assert _dp(straddled).severity == "inconclusive"


def test_the_cli_regrades_without_torch_and_writes_the_new_findings(small_gap, tmp_path):
    out = tmp_path / "regraded"
    code = (
        "import json, sys\nfrom deepaudit.cli import app\n"
        "try:\n"
        f"    app(['regrade', {str(small_gap)!r}, '--set', 'fairness.max_difference=0.01', "
        f"'--out', {str(out)!r}, '--fail-on', 'fail'])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    verdict = json.loads(run.stdout.strip().splitlines()[-1])
    assert verdict == {"code": 1, "torch": False}
    assert "fairness.demographic_parity" in run.stdout and "pass" in run.stdout
    document = json.loads((out / "findings.json").read_text())
    assert document["regraded"] == {"fairness": {"max_difference": 0.01}}
    found = {f["id"]: f for f in document["findings"]}
    assert found["fairness.demographic_parity"]["severity"] == "fail"
    assert (out / "findings.md").is_file()
    assert not (small_gap / "regraded").exists()  # --out was honoured


def test_a_setting_that_is_not_a_limit_is_refused_with_the_limits_listed(small_gap):
    bundle = da.load_bundle(small_gap)
    with pytest.raises(ValidationError) as info:
        regrade(bundle, {"fairness": {"n_bootstrap": 5}})
    assert str(info.value).startswith(
        "The 'limits' parameter of FairnessConfig must be limits that only grade "
        "('max_difference', 'min_ratio',"
    )
    assert "re-run the audit" in str(info.value) and "['n_bootstrap']" in str(info.value)
    with pytest.raises(ValidationError, match="'max_difference' parameter of FairnessConfig"):
        regrade(bundle, {"fairness": {"max_difference": 2.0}})
    with pytest.raises(ValidationError, match="families of the bundle"):
        regrade(bundle, {"robustness": {"max_group_gap": 0.2}})


def test_limits_are_parsed_from_the_command_line_form():
    assert parse_limits(["fairness.max_difference=0.05", "fairness.correction=bh"]) == {
        "fairness": {"max_difference": 0.05, "correction": "bh"}
    }
    with pytest.raises(ValidationError, match=r"FAMILY\.LIMIT=VALUE"):
        parse_limits(["max_difference=0.05"])


@pytest.mark.parametrize("family", ["overview", "explain", "fairness", "robustness"])
def test_a_version_1_bundle_says_why_it_cannot_be_regraded(family, tmp_path):
    bundle = da.load_bundle(unpack("transformer", tmp_path))
    limit = da.get_family(family).config_class.LIMITS[0]
    value = bundle.config["options"][family][limit]
    with pytest.raises(DeepAuditError) as info:
        regrade(bundle, {family: {limit: value}})
    assert str(info.value) == (
        f"The {family} result of this bundle was saved by an older deepaudit (result schema 1; "
        "this one writes 2) and lacks what re-grading reads: re-run the audit to re-grade it."
    )


def test_only_the_families_named_are_graded_again(small_gap, tmp_path):
    bundle = da.load_bundle(small_gap)
    same = regrade(bundle, {})
    assert same["fairness"] is bundle["fairness"]  # nothing to re-grade: the saved result


def test_saved_settings_naming_a_method_this_session_does_not_know_still_regrade(tmp_path):
    from deepaudit.configs import Config

    saved = {**da.ExplainConfig().to_dict(), "methods": ["a_method_registered_elsewhere"]}
    config = da.ExplainConfig.with_limits(saved, {"min_stability": 0.9})
    assert config.methods == ("a_method_registered_elsewhere",) and config.min_stability == 0.9
    assert isinstance(config, Config)
    with pytest.raises(ValidationError, match="'min_stability' parameter of ExplainConfig"):
        da.ExplainConfig.with_limits(saved, {"min_stability": 5.0})
