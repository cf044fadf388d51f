"""Auditing from the dashboard: the Run page and the first start on the reference models."""

from __future__ import annotations

from pathlib import Path

import pytest

import deepaudit as da
from deepaudit.dashboard import state
from deepaudit.dashboard.runs import DEMO_MAX_SAMPLES, applicable_families
from deepaudit.models import list_models, load_model
from tests.dashboard.conftest import make_app, on_page


def test_run_page_offers_the_reference_models_and_their_families(runs_root):
    app = on_page(runs_root, "run", "tabular")
    assert app.selectbox(key="run.model").options == list_models()
    app.selectbox(key="run.model").set_value("autoencoder").run()
    families = app.multiselect(key="run.families")
    target = load_model("autoencoder", device="cpu")
    assert families.options == applicable_families(target)
    assert families.value == families.options  # all of them, as `deepaudit audit` runs
    assert app.number_input(key="run.max_samples").value == DEMO_MAX_SAMPLES
    out = app.text_input(key="run.out.autoencoder").value
    assert out.startswith(str(Path("runs") / "dashboard" / "autoencoder-"))
    assert app.button(key="run.start").label == "Start the audit"


@pytest.mark.slow
def test_run_page_audits_a_reference_model_and_saves_it_as_the_cli_does(app, tmp_path):
    app.switch_page("screens/run.py").run()
    assert not app.exception
    app.selectbox(key="run.model").set_value("autoencoder").run()
    families = app.multiselect(key="run.families")
    families.set_value(["overview"])
    app.number_input(key="run.max_samples").set_value(150)
    app.number_input(key="run.seed").set_value(3)
    out = tmp_path / "ae"
    app.text_input(key="run.out.autoencoder").set_value(str(out))
    app.button(key="run.start").click().run()
    assert not app.exception, app.exception
    bundle = da.load_bundle(out)
    assert list(bundle.families) == ["overview"]
    assert bundle.target["n_samples"] == 150 and bundle.provenance["seed"] == 3
    assert app.session_state[state.CURRENT_KEY] == "ae"  # the new run is on screen
    assert app.success[0].value.startswith("Saved the audit of autoencoder to ")


@pytest.mark.slow
def test_first_start_audits_the_reference_models_then_reads_them(tmp_path):
    root = tmp_path / "demo"
    bootstrap = {"names": ["autoencoder"], "families": ["overview"], "max_samples": 120}
    at = make_app([], **{state.RUNS_ROOT_KEY: str(root), state.BOOTSTRAP_KEY: bootstrap})
    at.run()
    assert not at.exception, at.exception
    assert da.load_bundle(root / "autoencoder").target["n_samples"] == 120
    assert at.sidebar.selectbox(key=state.CURRENT_KEY).options == ["autoencoder"]
    assert at.button(key="cell|autoencoder|overview")
    stamp = (root / "autoencoder" / "bundle.json").stat().st_mtime_ns
    again = make_app([], **{state.RUNS_ROOT_KEY: str(root), state.BOOTSTRAP_KEY: bootstrap}).run()
    assert (root / "autoencoder" / "bundle.json").stat().st_mtime_ns == stamp  # not audited again
    assert again.sidebar.selectbox(key=state.CURRENT_KEY).options == ["autoencoder"]


def test_an_audit_job_runs_on_its_own_and_writes_its_report(tmp_path):
    from deepaudit.dashboard.jobs import JOBS, start_job

    out = str(tmp_path / "ae")
    seen = []
    job = start_job("autoencoder", out, ["overview"], seed=2, max_samples=120)
    assert start_job("autoencoder", out, ["overview"]) is job or job.finished.is_set()
    while not job.finished.wait(timeout=0.05):
        seen.append((job.done, job.stage))
    assert job.error is None, job.error
    assert job.stage == "done" and job.fraction == 1.0 and JOBS[out] is job
    # no page followed it: the bundle and the report are written all the same
    bundle = da.load_bundle(out)
    assert bundle.provenance["seed"] == 2 and bundle.target["n_samples"] == 120
    assert (tmp_path / "ae" / "report.html").is_file()
    assert all(0 <= done <= job.total for done, _ in seen)


def test_a_failing_audit_job_says_why_and_ends(tmp_path):
    from deepaudit.dashboard.jobs import start_job

    job = start_job("no-such-model", str(tmp_path / "x"), ["overview"])
    assert job.finished.wait(timeout=30)
    assert job.stage == "failed" and "no-such-model" in job.error
