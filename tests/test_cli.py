import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deepaudit as da
from deepaudit.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command", ["demo", "audit", "report", "regrade", "compare", "dashboard", "train", "models"]
)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


FACTORY = textwrap.dedent(
    """
    import numpy as np, torch
    import deepaudit as da

    def make():
        torch.manual_seed(0)
        X = np.random.default_rng(0).normal(size=(80, 3)).astype("float32")
        return da.Target(torch.nn.Linear(3, 2), modality="tabular", data=X,
                         labels=(X[:, 0] > 0).astype(int), name="mine")
    """
)


def test_audit_a_target_factory_and_say_where_it_went(tmp_path):
    (tmp_path / "mine.py").write_text(FACTORY)
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["audit", f"{tmp_path / 'mine.py'}:make", "--out", str(out), "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    assert "Saved the audit to" in result.output and str(out) in result.output.replace("\n", "")
    bundle = da.load_bundle(out)
    assert bundle.target["name"] == "mine"
    assert bundle.provenance["device"] == "cpu"


STREAM_FACTORY = textwrap.dedent(
    """
    from pathlib import Path
    import numpy as np, pandas as pd, torch
    import deepaudit as da

    def make():
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        frame = pd.DataFrame(rng.normal(size=(500, 3)).astype("float32"), columns=list("abc"))
        frame["y"] = (frame["a"] > 0).astype(int)
        frame["sex"] = rng.choice(["f", "m"], 500)
        path = Path(__file__).with_name("eval.parquet")
        frame.to_parquet(path)
        return da.Target(torch.nn.Linear(3, 2), modality="tabular", data=path, labels="y",
                         sensitive=["sex"], name="streamed", sample_size=100)
    """
)


def test_audit_a_streaming_target_on_the_local_engine(tmp_path):
    (tmp_path / "stream.py").write_text(STREAM_FACTORY)
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["audit", f"{tmp_path / 'stream.py'}:make", "--out", str(out), "--device", "cpu",
         "-f", "overview", "-f", "fairness", "--engine", "local"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = da.load_bundle(out)
    assert bundle.target["n_samples"] == 500
    assert bundle.target["streaming"]["sample_size"] == 100
    assert bundle["overview"].metrics["n_samples"] == 500
    assert bundle.provenance["engine"] == "local"


def test_bad_input_exits_with_a_clear_message(tmp_path):
    (tmp_path / "mine.py").write_text(FACTORY)
    result = runner.invoke(
        app, ["audit", f"{tmp_path / 'mine.py'}:make", "--out", str(tmp_path / "r"), "--seed", "-3"]
    )
    assert result.exit_code == 2
    assert "The 'seed' parameter of AuditConfig must be an int" in result.output
    result = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "No audit bundle at" in result.output


def test_models_lists_every_reference_model_with_its_measured_floors():
    from deepaudit.models import list_models, zoo_table

    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in list_models():
        assert name in result.output
    first = zoo_table()[0]
    metric = first["floors"][0].split(" ")[0]
    assert f"{first['metrics'][metric]:.4g}" in result.output


def test_train_rejects_an_unknown_model_with_close_names():
    result = runner.invoke(app, ["train", "lstn"])
    assert result.exit_code == 2
    assert "'lstm'" in result.output


def _saved_bundle(path, severities=("warn", "pass")):
    """A hand-built run folder whose overview findings have the given severities."""
    findings = [
        da.Finding("overview", f"check{i}", s, f"Check {i} is {s}.", da.Evidence(metric="m"))
        for i, s in enumerate(severities)
    ]
    bundle = da.AuditBundle(
        target={"name": "hand", "kind": "classifier", "modality": "tabular"},
        provenance={"seed": 0, "seconds": 0.1, "device": "cpu", "created_at": "2026-01-01"},
        config={"families": ["overview"], "options": {}},
        families={"overview": da.FamilyResult("overview", findings=findings, seconds=0.1)},
    )
    return bundle.save(path)


def test_report_writes_the_html_and_the_findings_beside_it(tmp_path):
    import json

    run = _saved_bundle(tmp_path / "run")
    out = tmp_path / "site" / "audit.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.read_text().startswith("<!DOCTYPE html>")
    document = json.loads((out.parent / "findings.json").read_text())
    assert document["worst_severity"] == "warn" and document["counts"]["warn"] == 1
    assert "| ⚠️ | warn | overview | Check 0 is warn. |" in (out.parent / "findings.md").read_text()
    assert "Worst finding: warn" in result.output

    result = runner.invoke(app, ["report", str(run), "--json", str(tmp_path / "ci.json")])
    assert result.exit_code == 0, result.output
    assert (run / "report.html").is_file() and (run / "findings.md").is_file()
    assert json.loads((tmp_path / "ci.json").read_text())["model"] == "hand"

    bare = _saved_bundle(tmp_path / "bare")
    result = runner.invoke(app, ["report", str(bare), "--no-findings"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in bare.iterdir()) == ["arrays.npz", "bundle.json", "report.html"]


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        (("warn", "pass"), "warn", 1),
        (("warn", "pass"), "fail", 0),
        (("fail",), "fail", 1),
        (("inconclusive",), "warn", 0),
        (("inconclusive",), "inconclusive", 1),
        (("fail",), "never", 0),
    ],
)
def test_report_fail_on_sets_the_exit_status_for_ci(tmp_path, severities, fail_on, code):
    run = _saved_bundle(tmp_path / "run", severities)
    result = runner.invoke(app, ["report", str(run), "--fail-on", fail_on])
    assert result.exit_code == code, result.output


def test_report_refuses_a_folder_or_an_unwritable_place_before_writing_anything(
    tmp_path, monkeypatch
):
    run = _saved_bundle(tmp_path / "run")
    folder = tmp_path / "existing"
    folder.mkdir()
    result = runner.invoke(app, ["report", str(run), "-o", str(folder)])
    assert result.exit_code == 2
    assert f"{str(folder)!r} is a folder; give a file path" in " ".join(result.output.split())
    assert "--output" in result.output
    # --json somewhere unwritable: refused before report.html is written
    real_access = os.access
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)
    )
    result = runner.invoke(app, ["report", str(run), "--json", str(locked / "ci.json")])
    assert result.exit_code == 2 and "--json" in result.output
    assert "is not a folder this process can write" in " ".join(result.output.split())
    assert sorted(p.name for p in run.iterdir()) == ["arrays.npz", "bundle.json"]


def test_report_rejects_an_unknown_fail_on(tmp_path):
    run = _saved_bundle(tmp_path / "run")
    result = runner.invoke(app, ["report", str(run), "--fail-on", "sometimes"])
    assert result.exit_code == 2
    assert "sometimes" in result.output


@pytest.mark.parametrize("full", [False, True])
def test_demo_audits_the_five_reference_models_and_writes_reports_and_an_index(
    tmp_path, monkeypatch, tabular_target, full
):
    """The zoo is replaced by a tiny target (the real demo is measured, not tested here)."""
    import deepaudit.audit
    import deepaudit.cli as cli
    import deepaudit.models
    from deepaudit.models import get_model_spec, list_models

    def tiny(name, device="auto"):
        tabular_target.name = name
        return tabular_target

    configs = []
    real_run_audit = deepaudit.audit.run_audit

    def recording_run_audit(target, config):
        configs.append(config)
        return real_run_audit(target, config)

    monkeypatch.setattr(deepaudit.models, "load_model", tiny)
    monkeypatch.setattr(deepaudit.audit, "run_audit", recording_run_audit)
    monkeypatch.setattr(cli, "_applicable_families", lambda target, families: ["overview"])
    out = tmp_path / "demo"
    result = runner.invoke(
        app,
        ["demo", "--out", str(out), "--device", "cpu"] + (["--full"] if full else []),
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    demo_models = [n for n in list_models() if get_model_spec(n).demo]
    assert demo_models == ["autoencoder", "cnn", "gan", "lstm", "transformer"]
    assert "digit_classifier" not in result.output
    for i, name in enumerate(demo_models, 1):
        assert f"[{i}/5] {name}" in result.output
        assert (out / name / "report.html").is_file()
        assert (out / name / "findings.json").is_file()
    index = (out / "index.html").read_text()
    assert all(f'href="{name}/report.html"' in index for name in demo_models)
    assert "Time per model and family" in result.output and "overview" in result.output
    assert "Index of reports:" in result.output and "Finished in" in result.output
    assert [c.max_samples for c in configs] == [None if full else 2000] * 5
    expected = da.OverviewConfig.thorough() if full else da.OverviewConfig()
    assert all(c.options_for("overview") == expected for c in configs)


def test_demo_reports_a_failing_model_and_still_writes_the_others(
    tmp_path, monkeypatch, tabular_target
):
    import deepaudit.cli as cli
    import deepaudit.models

    def tiny(name, device="auto"):
        if name == "gan":
            raise RuntimeError("the gan exploded")
        tabular_target.name = name
        return tabular_target

    monkeypatch.setattr(deepaudit.models, "load_model", tiny)
    monkeypatch.setattr(cli, "_applicable_families", lambda target, families: ["overview"])
    out = tmp_path / "demo"
    result = runner.invoke(
        app,
        ["demo", "--out", str(out), "-m", "cnn", "-m", "gan", "-m", "lstm"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output
    assert "the audit of gan failed: RuntimeError: the gan exploded" in result.output
    assert "The audit failed for: gan" in result.output
    assert (out / "cnn" / "report.html").is_file() and (out / "lstm" / "report.html").is_file()
    index = (out / "index.html").read_text()
    assert 'href="cnn/report.html"' in index and "gan/" not in index


def test_demo_rejects_an_unknown_model_before_any_work(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "-m", "lstn"])
    assert result.exit_code == 2
    assert "'lstm'" in result.output
    assert not (tmp_path / "d").exists()
