"""The command line as a CI gate: the audit writes its findings and takes --fail-on;
compare flags a planted regression and stays quiet on a re-run with the same seed."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

import deepaudit as da
from deepaudit.cli import app
from deepaudit.run_folder import is_current

runner = CliRunner()

#: A fitted logistic model, or the same with its weights flipped (a planted regression:
#: accuracy near 0 instead of near 1).
FACTORY = textwrap.dedent(
    """
    import numpy as np, torch
    import deepaudit as da

    def _target(sign):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(400, 3)).astype("float32")
        model = torch.nn.Linear(3, 2)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[-4.0, 0, 0], [4.0, 0, 0]]) * sign)
            model.bias.zero_()
        return da.Target(model, modality="tabular", data=X, labels=(X[:, 0] > 0).astype(int),
                         sensitive={"g": np.where(X[:, 1] > 0, "a", "b")}, name="gate")

    def good():
        return _target(1.0)

    def broken():
        return _target(-1.0)
    """
)


@pytest.fixture
def factory(tmp_path):
    path = tmp_path / "gate.py"
    path.write_text(FACTORY)
    return path


def _audit(factory, name, out, *extra):
    return runner.invoke(
        app,
        [
            "audit",
            f"{factory}:{name}",
            "-o",
            str(out),
            "--device",
            "cpu",
            "-f",
            "overview,fairness",
            *extra,
        ],
    )


def test_audit_writes_its_findings_beside_the_bundle_and_fails_on_request(factory, tmp_path):
    out = tmp_path / "run"
    result = _audit(factory, "good", out)
    assert result.exit_code == 0, result.output
    for name in ("report.html", "findings.json", "findings.md"):
        assert is_current(out / name, out), name
        assert name in result.output
    document = json.loads((out / "findings.json").read_text())
    assert set(document["families"]) == {"overview", "fairness"}  # -f a,b gives both
    result = _audit(factory, "broken", out, "--fail-on", "fail")
    assert result.exit_code == 1, result.output
    assert "Exit status 1" in result.output
    assert json.loads((out / "findings.json").read_text())["worst_severity"] == "fail"


def test_compare_flags_a_planted_regression_and_not_a_rerun(factory, tmp_path):
    base, again, broken = tmp_path / "base", tmp_path / "again", tmp_path / "broken"
    for name, out in (("good", base), ("good", again), ("broken", broken)):
        assert _audit(factory, name, out).exit_code == 0
    quiet = runner.invoke(app, ["compare", str(base), str(again), "--fail-on", "regression"])
    assert quiet.exit_code == 0, quiet.output
    assert "No finding changed severity." in quiet.output
    changes = tmp_path / "changes.json"
    flagged = runner.invoke(
        app,
        ["compare", str(base), str(broken), "--fail-on", "regression", "--json", str(changes)],
    )
    assert flagged.exit_code == 1, flagged.output
    document = json.loads(changes.read_text())
    worsened = {c["id"]: c for c in document["changes"] if c["kind"] == "worsened"}
    assert worsened["overview.accuracy"]["before"] == "pass"
    assert worsened["overview.accuracy"]["after"] == "fail"
    assert document["regressions"] >= 1
    assert document["new"]["bundle_sha256"] == da.load_bundle(broken).source_sha256
    # the other way round the accuracy failure is an improvement, not a regression
    back = runner.invoke(app, ["compare", str(broken), str(base), "--json", str(changes)])
    assert back.exit_code == 0, back.output
    kinds = {c["id"]: c["kind"] for c in json.loads(changes.read_text())["changes"]}
    assert kinds["overview.accuracy"] == "improved"
    assert kinds["overview.class_recall"] == "resolved"


def test_compare_refuses_a_missing_run(tmp_path):
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "No audit bundle at" in result.output


def test_version_and_short_help():
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.output.strip() == f"deepaudit {da.__version__}"
    short = runner.invoke(app, ["-h"])
    assert short.exit_code == 0 and "compare" in short.output
    assert runner.invoke(app, ["audit", "-h"]).exit_code == 0


def test_report_writes_junit_and_sarif_with_one_entry_per_check(factory, tmp_path):
    import xml.etree.ElementTree as ET

    out = tmp_path / "run"
    assert _audit(factory, "broken", out).exit_code == 0
    junit, sarif = tmp_path / "ci" / "audit.xml", tmp_path / "ci" / "audit.sarif"
    result = runner.invoke(
        app, ["report", str(out), "--junit", str(junit), "--sarif", str(sarif), "--fail-on", "fail"]
    )
    assert result.exit_code == 1, result.output  # the broken model fails, as --fail-on asks
    bundle = da.load_bundle(out)
    ids = sorted(f.id for f in bundle.findings)
    cases = ET.parse(junit).getroot().iter("testcase")
    assert sorted(c.get("name") for c in cases) == ids
    failed = {
        c.get("name")
        for c in ET.parse(junit).getroot().iter("testcase")
        if c.find("failure") is not None
    }
    assert failed == {f.id for f in bundle.findings if f.severity == "fail"}
    document = json.loads(sarif.read_text())
    results = document["runs"][0]["results"]
    assert sorted(r["partialFingerprints"]["deepauditFindingId/v1"] for r in results) == ids
    assert document["runs"][0]["results"][0]["locations"]
