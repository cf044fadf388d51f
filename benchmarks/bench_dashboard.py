"""How quickly the dashboard answers, beside a bare streamlit app, in headless Chromium.

- start: from launching ``deepaudit dashboard RUNS`` to the Findings page drawn (its grid
  of buttons), against a one-page streamlit app that draws one plotly figure;
- page switch: from following a link in the navigation to that page's first chart;
- the Fairness slider: from one key press on the threshold slider to the overall metric
  redrawn (the issue's goal: at most 2 s).

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [RUN_DIR ...]`` (default: the runs
``deepaudit demo`` wrote under ``runs/demo``). Needs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BARE_APP = """
import plotly.graph_objects as go
import streamlit as st
st.title("Bare")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])))
"""
PAGES = ("model", "explanations", "fairness", "robustness")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer")


def stop(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def first_render(browser, command: list[str], port: int, ready: str) -> tuple[float, object]:
    """Seconds from launch to ``ready`` visible, and the page (server still running)."""
    start = time.perf_counter()
    process = serve(command, port)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"http://127.0.0.1:{port}")
    page.locator(ready).first.wait_for(timeout=120_000)
    return time.perf_counter() - start, (process, page)


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.reports.helpers import find_chromium

    runs = [Path(a) for a in argv] or sorted(
        p.parent for p in (REPO / "runs" / "demo").glob("*/bundle.json")
    )
    if not runs:
        raise SystemExit("no runs: give run folders, or run `deepaudit demo` first")
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium: install Debian's chromium")
    scratch = Path(tempfile.mkdtemp(prefix="bench_dashboard."))
    bare = scratch / "bare.py"
    bare.write_text(BARE_APP)
    streamlit = [sys.executable, "-m", "streamlit", "run"]
    flags = ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        port = free_port()
        bare_seconds, (process, _) = first_render(
            browser,
            [*streamlit, str(bare), "--server.port", str(port), *flags],
            port,
            ".js-plotly-plot",
        )
        stop(process)
        port = free_port()
        command = [sys.executable, "-c", "from deepaudit.cli import app; app()", "dashboard"]
        ours, (process, page) = first_render(
            browser,
            [*command, *map(str, runs), "--port", str(port)],
            port,
            "[data-testid=stButton] button",
        )
        try:
            print(f"first page: deepaudit {ours:.2f} s, bare streamlit {bare_seconds:.2f} s, "
                  f"ratio {ours / bare_seconds:.2f}")  # fmt: skip
            run = runs[0].name
            for name in PAGES:
                start = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/{name}?run={run}")
                page.locator(".js-plotly-plot, [data-testid=stDataFrame]").first.wait_for(
                    timeout=120_000
                )
                print(f"page {name:13s} {time.perf_counter() - start:6.2f} s")
            page.goto(f"http://127.0.0.1:{port}/fairness?run={run}")
            overall = page.locator('[data-testid="stMetricValue"]').first
            overall.wait_for(timeout=120_000)
            slider = page.get_by_role("slider").first
            timings = []
            for _ in range(5):
                before = overall.inner_text()
                slider.focus()
                start = time.perf_counter()
                page.keyboard.press("ArrowLeft")
                page.wait_for_function(
                    "([el, old]) => el.innerText !== old",
                    arg=[overall.element_handle(), before],
                    timeout=60_000,
                )
                timings.append(time.perf_counter() - start)
            print(f"fairness slider: median {sorted(timings)[2]:.2f} s per step (goal <= 2 s)")
        finally:
            stop(process)
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
