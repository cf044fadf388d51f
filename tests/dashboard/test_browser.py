"""End to end: ``deepaudit dashboard`` served on a free port, driven by headless Chromium.

Debian's ``chromium`` (or ``$DEEPAUDIT_CHROMIUM``) is driven through Playwright's
``executable_path``: Playwright downloads no browser. Without one the test is skipped,
saying so. ``make test`` runs it with the other browser tests (``pytest -m browser``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deepaudit.reports import render_html
from deepaudit.results import load_bundle

pytestmark = pytest.mark.browser

#: What an exception looks like on a streamlit page.
EXCEPTION_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception): ")


def _chromium() -> str | None:
    given = os.environ.get("DEEPAUDIT_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _deepaudit() -> list[str]:
    script = Path(sys.executable).with_name("deepaudit")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from deepaudit.cli import app; app()"]


def _wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the dashboard exited early: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the dashboard did not answer in time")


def _assert_no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.inner_text("body")
    assert not EXCEPTION_TEXT.search(text), EXCEPTION_TEXT.search(text).group(0)


def test_the_dashboard_serves_its_pages_in_a_browser(runs_root, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium found (install Debian's `chromium`, e.g. `make browser`, or set "
            "DEEPAUDIT_CHROMIUM to its path)"
        )
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*_deepaudit(), "dashboard", str(runs_root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"COLUMNS": "200"},
    )
    try:
        assert process.stdout.readline().strip() == f"Dashboard at {url} (Ctrl+C stops it)"
        _wait_until_healthy(url, process)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("heading", name="Findings").wait_for(timeout=60_000)
            page.get_by_role("button", name=re.compile(r"(fail|warn|pass)")).first.wait_for()
            _assert_no_exception(page)
            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name="Download the HTML report").click()
            report = tmp_path / "report.html"
            download.value.save_as(report)
            assert download.value.suggested_filename == "autoencoder-report.html"
            assert render_html(load_bundle(runs_root / "autoencoder")) == report.read_text()
            # a grid cell brings its evidence into view
            page.set_viewport_size({"width": 1400, "height": 700})
            page.get_by_role("button", name=re.compile(r"^(fail|warn|pass)")).first.click()
            evidence = page.locator("#cell-evidence")
            evidence.wait_for(timeout=60_000)
            page.wait_for_function(
                """() => { const r = document.getElementById("cell-evidence").getBoundingClientRect();
                           return r.top >= 0 && r.bottom <= window.innerHeight; }""",
                timeout=20_000,
            )
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(f"{url}/model?run=image")
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            _assert_no_exception(page)
            page.screenshot(path=str(tmp_path / "model.png"), full_page=True)
            page.goto(f"{url}/fairness?run=tabular")
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            _assert_no_exception(page)
            overall = page.locator('[data-testid="stMetricValue"]').first
            before = overall.inner_text()
            page.get_by_role("slider").first.focus()
            for _ in range(20):  # 0.5 -> 0.3: every sample is now selected or more are
                page.keyboard.press("ArrowLeft")
            page.wait_for_function(
                "([el, old]) => el.innerText !== old", arg=[overall.element_handle(), before]
            )
            _assert_no_exception(page)
            shot = tmp_path / "fairness.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            browser.close()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()
    assert process.returncode is not None
