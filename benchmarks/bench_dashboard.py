"""How quickly the dashboard answers, beside a bare streamlit app, in headless Chromium.

- start: from launching ``deepaudit dashboard RUNS`` to the Findings page drawn (its grid
  of buttons), against a one-page streamlit app that draws one plotly figure;
- page switch: from following a link in the navigation to that page's first chart;
- the Fairness slider: from one key press on the threshold slider to the overall metric
  redrawn (the issue's goal: at most 2 s).

``--load`` measures the dashboard under load instead: one ``deepaudit dashboard RUNS``
server, and 1 then 10 browser sessions (each its own browser context) opening pages of the
runs at the same time. A page's time runs from navigation until it is drawn: its script
run ended and every chart and table on screen. Then the same without a browser: sessions
that speak streamlit's websocket protocol as the page's JavaScript does, each page timed
until the server has sent all of it, so the server's own part shows apart from the
browsers' (which share this machine's cores). Each count reports the median and p90 page
time and the ratio to one session (the issue's goal: median at most 3 s with 10 sessions),
and the CPU seconds the server and the whole machine spent. Every page is opened once
first, by one session, so every count sees a warm server.

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [--load] [RUN_DIR ...]`` (default:
the runs ``deepaudit demo`` wrote under ``runs/demo``). Needs Debian's ``chromium``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.dashboard.browser import stop  # noqa: E402 - SIGTERM, then SIGKILL if it lingers

BARE_APP = """
import plotly.graph_objects as go
import streamlit as st
st.title("Bare")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])))
"""
DASHBOARD = [sys.executable, "-c", "from deepaudit.cli import app; app()", "dashboard"]
PAGES = ("model", "explanations", "fairness", "robustness")
#: The page of each family that has one (``--load`` opens each for every run having it).
FAMILY_PAGES = {
    "explain": "explanations",
    "fairness": "fairness",
    "robustness": "robustness",
    "generative": "generative",
}


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


def first_render(browser, command: list[str], port: int, ready: str) -> tuple[float, object]:
    """Seconds from launch to ``ready`` visible, and the page (server still running)."""
    start = time.perf_counter()
    process = serve(command, port)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"http://127.0.0.1:{port}")
    page.locator(ready).first.wait_for(timeout=120_000)
    return time.perf_counter() - start, (process, page)


def responsiveness(runs: list[Path], chromium: str) -> None:
    """The first page against a bare streamlit app, each page switch, the slider."""
    from playwright.sync_api import sync_playwright

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
        ours, (process, page) = first_render(
            browser,
            [*DASHBOARD, *map(str, runs), "--port", str(port)],
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


def addresses(runs: list[Path]) -> list[str]:
    """Every page of every run (Model, and each family's page the run has), then Findings
    and Compare: what the sessions of ``--load`` open."""
    from urllib.parse import quote

    from deepaudit.dashboard.runs import discover_runs, label_runs
    from deepaudit.results import load_bundle

    found = []
    for ref in label_runs(discover_runs(runs)[0]):
        families = load_bundle(ref.path).families
        pages = ["model", *(page for family, page in FAMILY_PAGES.items() if family in families)]
        found += [f"/{page}?run={quote(ref.label)}" for page in pages]
    return [*found, "/", "/compare"]


async def browser_session(browser, url: str, visits: list[str]) -> list[float]:
    """One user in a browser context of its own: each page's seconds from navigation until
    it is drawn (its script run ended, every chart and table on screen)."""
    from tests.dashboard.browser import DRAWN

    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    times = []
    for address in visits:
        start = time.perf_counter()
        await page.goto(url + address)
        await page.wait_for_function(DRAWN, timeout=600_000)
        times.append(time.perf_counter() - start)
    await context.close()
    return times


async def protocol_session(url: str, visits: list[str]) -> list[float]:
    """One user without a browser: each page a new session over streamlit's websocket,
    asked for as the page's JavaScript asks (a rerun with its name and query), timed until
    the server says the script finished, every element sent."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    times = []
    for address in visits:
        name, _, query = address.lstrip("/").partition("?")
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as ws:
            ask = BackMsg()
            ask.rerun_script.page_name, ask.rerun_script.query_string = name, query
            start = time.perf_counter()
            await ws.send(ask.SerializeToString())
            reply = ForwardMsg()
            while reply.WhichOneof("type") != "script_finished":
                reply.ParseFromString(await ws.recv())
            times.append(time.perf_counter() - start)
    return times


async def sessions_at_once(open_pages, pages: list[str], n: int, visits: int):
    """``n`` sessions (``open_pages(plan)``) at the same time, each opening ``visits``
    pages, each starting at another page of the list (so they ask for different pages at
    once); every page's seconds and the wall time."""
    step = max(1, len(pages) // n)
    plans = [[pages[(i * step + k) % len(pages)] for k in range(visits)] for i in range(n)]
    started = time.perf_counter()
    times = await asyncio.gather(*(open_pages(plan) for plan in plans))
    return [t for one in times for t in one], time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process ``pid`` has used (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU seconds every core of this machine has been busy (Linux; 0 elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def at_each_count(open_pages, pages, counts, visits, pid) -> dict[int, list[float]]:
    """Page times at each session count, with the CPU the server and the machine used."""
    results = {}
    for n in counts:
        server, machine = cpu_seconds(pid), machine_cpu_seconds()
        times, wall = await sessions_at_once(open_pages, pages, n, visits)
        server, machine = cpu_seconds(pid) - server, machine_cpu_seconds() - machine
        results[n] = times
        print(
            f"{n:3d} sessions: {len(times)} pages in {wall:.1f} s; CPU: the server "
            f"{server:.1f} s ({server / len(times):.2f} s a page), the machine {machine:.1f} s"
        )
    return results


async def measure_load(url: str, chromium: str, pages, counts, visits, pid) -> dict:
    """Page times in Chromium, then without a browser, at each session count, after one
    browser session has opened every page once."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        warm = await browser_session(browser, url, pages)
        print(f"warm-up: {len(pages)} pages by one session, median {statistics.median(warm):.2f} s")
        print("in Chromium (the browsers' own work shares this machine's cores):")
        in_browser = await at_each_count(
            lambda plan: browser_session(browser, url, plan), pages, counts, visits, pid
        )
        await browser.close()
    print("the server alone (streamlit's websocket protocol, no browser):")
    alone = await at_each_count(
        lambda plan: protocol_session(url, plan), pages, counts, visits, pid
    )
    return {"in Chromium": in_browser, "the server alone": alone}


def p90(times: list[float]) -> float:
    """The 90th percentile, interpolated between the nearest two times."""
    return statistics.quantiles(times, n=10, method="inclusive")[-1]


def report_load(title: str, results: dict[int, list[float]]) -> None:
    """Median, p90 and worst page time per session count, and each against one session."""
    base = results.get(min(results))
    print(f"{title}:")
    print(f"{'sessions':>8} {'pages':>6} {'median':>8} {'p90':>8} {'max':>8} {'median/1':>9}")
    for n, times in results.items():
        median = statistics.median(times)
        ratio = median / statistics.median(base)
        print(
            f"{n:8d} {len(times):6d} {median:7.2f}s {p90(times):7.2f}s "
            f"{max(times):7.2f}s {ratio:8.2f}x"
        )
    most = max(results)
    verdict = "met" if statistics.median(results[most]) <= 3 else "missed"
    print(f"goal (median <= 3 s with {most} sessions): {verdict}")


def load(runs: list[Path], chromium: str, counts: list[int], visits: int) -> None:
    """The dashboard under ``counts`` concurrent sessions, against one server."""
    pages = addresses(runs)
    print(f"{len(pages)} pages of {', '.join(map(str, runs))}; each session opens {visits}")
    port = free_port()
    process = serve([*DASHBOARD, *map(str, runs), "--port", str(port)], port)
    try:
        results = asyncio.run(
            measure_load(f"http://127.0.0.1:{port}", chromium, pages, counts, visits, process.pid)
        )
    finally:
        stop(process)
    for title, times in results.items():
        report_load(title, times)


def main(argv: list[str]) -> None:
    from tests.reports.helpers import find_chromium

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run folders (default: runs/demo)")
    parser.add_argument("--load", action="store_true", help="measure concurrent sessions")
    parser.add_argument("--sessions", default="1,10", help="session counts, e.g. 1,10")
    parser.add_argument("--visits", type=int, default=8, help="pages each session opens")
    args = parser.parse_args(argv)
    runs = args.runs or sorted(p.parent for p in (REPO / "runs" / "demo").glob("*/bundle.json"))
    if not runs:
        raise SystemExit("no runs: give run folders, or run `deepaudit demo` first")
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium: install Debian's chromium")
    if args.load:
        counts = [int(n) for n in args.sessions.split(",")]
        load(runs, chromium, counts, args.visits)
    else:
        responsiveness(runs, chromium)


if __name__ == "__main__":
    main(sys.argv[1:])
