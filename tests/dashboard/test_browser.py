"""End to end: ``deepaudit dashboard`` served on a free port, driven by headless Chromium.

Debian's ``chromium`` (or ``$DEEPAUDIT_CHROMIUM``) is driven through Playwright's
``executable_path``: Playwright downloads no browser. Without one the test is skipped,
saying so. ``make test`` runs it with the other browser tests (``pytest -m browser``).
"""

from __future__ import annotations

import re

import pytest

from deepaudit.reports import render_html
from deepaudit.results import load_bundle
from tests.dashboard.browser import (
    assert_no_exception,
    free_port,
    start_dashboard,
    stop,
    wait_until_healthy,
)
from tests.reports.helpers import find_chromium, require_chromium

pytestmark = pytest.mark.browser


def test_the_dashboard_serves_its_pages_in_a_browser(runs_root, tmp_path):
    playwright = require_chromium()
    chromium = find_chromium()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_dashboard([runs_root], port)
    try:
        assert process.stdout.readline().strip() == f"Dashboard at {url} (Ctrl+C stops it)"
        wait_until_healthy(url, process)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("heading", name="Findings").wait_for(timeout=60_000)
            page.get_by_role("button", name=re.compile(r"(fail|warn|pass)")).first.wait_for()
            assert_no_exception(page)
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
            assert_no_exception(page)
            page.screenshot(path=str(tmp_path / "model.png"), full_page=True)
            page.goto(f"{url}/fairness?run=tabular")
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            assert_no_exception(page)
            overall = page.locator('[data-testid="stMetricValue"]').first
            before = overall.inner_text()
            page.get_by_role("slider").first.focus()
            for _ in range(20):  # 0.5 -> 0.3: every sample is now selected or more are
                page.keyboard.press("ArrowLeft")
            page.wait_for_function(
                "([el, old]) => el.innerText !== old", arg=[overall.element_handle(), before]
            )
            assert_no_exception(page)
            shot = tmp_path / "fairness.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            browser.close()
    finally:
        stop(process)
    assert process.returncode is not None
