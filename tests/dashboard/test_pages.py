"""Every page through streamlit's AppTest: its widgets are there and show the views' numbers."""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st

import deepaudit as da
from deepaudit.dashboard import state
from deepaudit.dashboard.archive import NOT_A_ZIP_MESSAGE, zip_run
from deepaudit.dashboard.grid import grid_frame
from deepaudit.dashboard.render import md_escape, severity_label
from deepaudit.dashboard.screens.compare import metrics_side_by_side
from deepaudit.dashboard.screens.findings import cell_key
from deepaudit.reports import render_html
from deepaudit.reports.views import family_section, findings_frame
from tests.dashboard.conftest import make_app, on_page


def _frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def _has_frame(at, expected: pd.DataFrame) -> bool:
    """Whether the page shows a table with ``expected``'s columns and values."""
    for frame in _frames(at):
        if list(frame.columns) == list(expected.columns) and len(frame) == len(expected):
            left = frame.reset_index(drop=True).astype(str)
            right = expected.reset_index(drop=True).astype(str)
            if left.equals(right):
                return True
    return False


@pytest.mark.parametrize("by", ["family", "check"])
def test_findings_grid_shows_every_model_and_its_worst_severity(app, run_paths, by):
    bundles = {name: da.load_bundle(path) for name, path in sorted(run_paths.items())}
    expected = grid_frame(bundles, by)
    assert app.title[0].value == "Findings"
    assert app.radio(key="findings.by").options == ["family", "check"]
    if by == "check":
        app.radio(key="findings.by").set_value("check").run()
    for model in expected.index:
        for column in expected.columns:
            family, _, check = column.partition("/")
            button = app.button(key=cell_key(model, column))
            severity = expected.loc[model, column]
            count = sum(
                f.severity == severity
                for f in bundles[model].findings
                if f.family == family and (not check or f.check == check)
            )
            assert button.label == severity_label(severity, count)
            assert button.disabled == (severity is None)
            assert (button.proto.type == "primary") == (severity == "fail")


def test_the_findings_page_shows_each_audits_issues_first(app, run_paths):
    assert [h.value for h in app.subheader][:2] == ["Issues", "Every check"]
    labels = [e.label for e in app.expander]
    n_open = 0
    for _, path in sorted(run_paths.items()):
        bundle = da.load_bundle(path)
        open_issues = [i for i in bundle.issues if i.severity != "pass"]
        n_open += len(open_issues)
        for issue in open_issues:  # each issue once, in the bundle's order (worst first)
            assert any(label.startswith(md_escape(issue.title)) for label in labels), issue.title
    assert n_open > 0
    assert not app.exception


def test_a_cell_leads_to_its_findings_and_evidence(app, run_paths):
    bundle = da.load_bundle(run_paths["tabular"])
    app.button(key=cell_key("tabular", "overview")).click().run()
    assert not app.exception
    assert "tabular · overview" in [h.value for h in app.subheader]
    rows = findings_frame(bundle)
    rows = rows[rows["family"] == "overview"].drop(columns=["family"])
    assert _has_frame(app, rows)
    section = family_section(bundle, "overview")
    key = next(f.evidence.view for f in bundle["overview"].findings if f.evidence.view)
    assert _has_frame(app, section.item(key).frame)  # the evidence view, as the report has it
    assert app.session_state[state.CURRENT_KEY] == "tabular"  # the model is put on screen


def test_model_page_draws_the_overview_view(runs_root, run_paths):
    app = on_page(runs_root, "model", "image")
    bundle = da.load_bundle(run_paths["image"])
    assert app.title[0].value == "Model: image"
    section = family_section(bundle, "overview")
    assert _has_frame(app, section.item("metrics").frame)
    figures = [i for i in section.items if type(i).__name__ == "FigureView"]
    assert len(app.get("plotly_chart")) >= len(figures)


def test_sidebar_downloads_the_report_and_the_run_on_screen(runs_root, run_paths, monkeypatch):
    offered = {}
    original = st.download_button

    def recording(label, data, *args, **kwargs):
        offered[label] = (data, kwargs["file_name"])
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    at = make_app([runs_root]).run()
    assert at.sidebar.selectbox(key=state.CURRENT_KEY).value == "autoencoder"
    at.sidebar.selectbox(key=state.CURRENT_KEY).set_value("tabular").run()
    assert not at.exception
    report, name = offered["Download the HTML report"]
    assert name == "tabular-report.html"
    assert callable(report)  # rendered only when clicked
    archive, name = offered["Download the run (zip)"]
    assert name == "tabular.zip"
    assert archive == zip_run(run_paths["tabular"])


@pytest.mark.slow
def test_the_downloaded_report_is_the_reports_html(runs_root, run_paths, monkeypatch):
    offered = {}
    original = st.download_button

    def recording(label, data, *args, **kwargs):
        offered[label] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    at = make_app([runs_root], **{state.CURRENT_KEY: "generator"}).run()
    assert not at.exception
    html = offered["Download the HTML report"]()
    assert html == render_html(da.load_bundle(run_paths["generator"]))


def test_compare_puts_two_runs_side_by_side(app, run_paths):
    app.switch_page("screens/compare.py").run()
    assert not app.exception
    app.selectbox(key="compare.left").set_value("tabular")
    app.selectbox(key="compare.right").set_value("tabular-seed1").run()
    assert app.selectbox(key="compare.family").options[0] == "overview"
    left, right = da.load_bundle(run_paths["tabular"]), da.load_bundle(run_paths["tabular-seed1"])
    table = metrics_side_by_side(
        left, right, "overview", ("tabular (left)", "tabular-seed1 (right)")
    )
    assert _has_frame(app, table)
    from deepaudit.dashboard.screens.compare import findings_side_by_side

    assert _has_frame(app, findings_side_by_side(left, right))
    acc = table.set_index("metric").loc["accuracy"]
    assert acc["difference"] == pytest.approx(
        right["overview"].metrics["accuracy"] - left["overview"].metrics["accuracy"]
    )


def test_compare_gives_each_findings_signed_difference_with_an_interval():
    from deepaudit.dashboard.screens.compare import findings_side_by_side
    from deepaudit.results import Evidence, FamilyResult, Finding

    def bundle(value, interval, severity):
        finding = Finding(
            "overview", "accuracy", severity, "Accuracy.", Evidence("acc", value, interval)
        )
        result = FamilyResult("overview", findings=[finding])
        return da.AuditBundle(target={}, provenance={}, config={}, families={"overview": result})

    frame = findings_side_by_side(
        bundle(0.80, (0.77, 0.83), "pass"), bundle(0.70, (0.66, 0.74), "fail")
    )
    row = frame.iloc[0]
    assert (row["finding"], row["left"], row["right"], row["changed"]) == (
        "overview.accuracy", "pass", "fail", True,
    )  # fmt: skip
    half = (0.03**2 + 0.04**2) ** 0.5  # 0.05
    assert row["right − left"] == f"{-0.1:+.3g} [{-0.1 - half:+.3g}, {-0.1 + half:+.3g}]"
    assert row["right − left"] == "-0.1 [-0.15, -0.05]"


def test_compare_needs_two_runs(run_paths):
    at = make_app([run_paths["image"]]).run()
    at.switch_page("screens/compare.py").run()
    assert "needs two runs" in at.info[0].value


def test_open_an_uploaded_zip(app, run_paths):
    app.switch_page("screens/open.py").run()
    uploader = app.file_uploader(key="open.upload")
    uploader.set_value(("shared run.zip", zip_run(run_paths["generator"]), "application/zip")).run()
    assert not app.exception
    labels = app.sidebar.selectbox(key=state.CURRENT_KEY).options
    assert "shared_run" in labels
    assert app.session_state[state.CURRENT_KEY] == "shared_run"
    assert app.success[0].value.startswith("Opened shared run\\.zip")


def test_open_refuses_a_file_that_is_not_a_run(app):
    app.switch_page("screens/open.py").run()
    app.file_uploader(key="open.upload").set_value(("x.zip", b"hello", "application/zip")).run()
    assert app.error[0].value == md_escape(NOT_A_ZIP_MESSAGE.format(name="x.zip"))


def test_open_a_folder_on_this_machine(run_paths):
    at = make_app([run_paths["image"]]).run()
    at.switch_page("screens/open.py").run()
    at.text_input(key="open.path").input(str(run_paths["autoencoder"])).run()
    at.button(key="open.path_button").click().run()
    assert at.sidebar.selectbox(key=state.CURRENT_KEY).options == ["image", "autoencoder"]
    assert at.session_state[state.CURRENT_KEY] == "autoencoder"


def test_open_a_folder_that_is_not_a_run(app, tmp_path):
    app.switch_page("screens/open.py").run()
    app.text_input(key="open.path").input(str(tmp_path)).run()
    app.button(key="open.path_button").click().run()
    assert app.error[0].value.startswith(md_escape(f"No audit bundle at {tmp_path}"))


def test_uploads_are_removed_at_exit_and_stale_ones_on_the_next_upload(run_paths, tmp_path):
    import os
    import tempfile
    import time
    from pathlib import Path

    from deepaudit.dashboard.screens import open as open_page

    stale = Path(tempfile.mkdtemp(prefix=open_page.UPLOAD_PREFIX))  # a crashed server's
    old = time.time() - open_page.STALE_UPLOAD_SECONDS - 5
    os.utime(stale, (old, old))
    folder = open_page.unpack_upload("run.zip", zip_run(run_paths["generator"]))
    assert da.load_bundle(folder).target["kind"] == "generator"
    assert not stale.exists()  # cleared on this upload
    root = folder.parent
    assert root in open_page.UPLOADS
    open_page.remove_uploads([root])  # what the server does at exit (atexit)
    assert not root.exists()


def test_an_incomplete_run_is_shown_so_on_the_findings_and_model_pages(run_paths, tmp_path):
    import shutil

    from tests.dashboard.conftest import make_app, on_page

    folder = tmp_path / "runs"
    shutil.copytree(run_paths["tabular"], folder / "stopped")
    bundle = da.load_bundle(folder / "stopped")
    bundle.provenance["incomplete"] = {
        "stopped_in": "robustness",
        "error": "RuntimeError: out of memory",
        "not_run": ["robustness"],
    }
    bundle.save(folder / "stopped")
    findings = make_app([folder]).run()
    assert any("Incomplete run" in w.value for w in findings.warning), findings.warning
    model = on_page(folder, "model", "stopped")
    assert any("stopped in the" in w.value for w in model.warning)
    complete = make_app([run_paths["tabular"].parent]).run()
    assert not any("Incomplete run" in w.value for w in complete.warning)
