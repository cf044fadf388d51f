"""``deepaudit dashboard``: what it starts, what it prints, what it refuses."""

from __future__ import annotations

import os
import sys

import pytest
from typer.testing import CliRunner

from deepaudit.cli import app
from deepaudit.dashboard import APP_PATH
from deepaudit.dashboard.runs import NOT_A_RUN_MESSAGE

runner = CliRunner()


@pytest.fixture
def started(monkeypatch):
    """Record the process the command would become instead of becoming it."""
    calls = []

    def fake_execv(path, argv):
        calls.append((path, argv))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_execv)
    return calls


def test_it_starts_streamlit_on_the_app_and_prints_the_address(started, run_paths, tmp_path):
    result = runner.invoke(
        app,
        ["dashboard", str(run_paths["tabular"]), str(run_paths["image"].parent), "--port", "8612"],
    )
    assert result.exit_code == 0, result.output
    assert "Dashboard at http://127.0.0.1:8612" in result.output
    ((path, argv),) = started
    assert path == sys.executable
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    options = dict(zip(argv[5:-3:2], argv[6:-3:2], strict=True))
    assert options["--server.port"] == "8612"
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    separator = argv.index("--")
    assert argv[separator + 1 :] == [
        str(run_paths["tabular"].resolve()),
        str(run_paths["image"].parent.resolve()),
    ]


def test_no_run_folder_opens_the_default_runs(started):
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 0, result.output
    ((_, argv),) = started
    assert argv[-1] == "--"  # the app opens runs/demo, auditing it the first time


def test_a_folder_that_holds_no_run_is_refused_before_starting(started, tmp_path):
    result = runner.invoke(app, ["dashboard", str(tmp_path)])
    assert result.exit_code == 2
    assert NOT_A_RUN_MESSAGE.format(path=tmp_path) in " ".join(result.output.split())
    assert started == []


def test_a_bad_port_is_refused(started):
    result = runner.invoke(app, ["dashboard", "--port", "70000"])
    assert result.exit_code == 2
    assert started == []


def test_a_port_in_use_is_refused_before_the_address_is_printed(started):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["dashboard", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in " ".join(result.output.split())
    assert "Dashboard at" not in result.output
    assert started == []
