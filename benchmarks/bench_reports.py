"""Speed and size of the HTML reports, side by side with plotly's own HTML export.

For each saved run (default: every run folder under ``runs/demo``, as ``deepaudit demo``
writes them; else overview-only audits of the five reference models, made here):

- deepaudit: ``render_html`` (views + template, plotly.js embedded once) and the atomic
  ``write_report`` of the whole report;
- plotly: ``plotly.io.to_html`` of the same figures, each a standalone page with plotly.js
  inlined (what one gets by exporting the figures one by one), without the tables,
  findings and model card.

Then, in headless Chromium (Debian's ``chromium``; skipped without it), the time to the
page's load event for each report, against a page holding only plotly.js and one of its
figures (``plotly.io.to_html``): the ratio report / plotly page, goal at most 1.3.

Run: ``.venv/bin/python benchmarks/bench_reports.py [RUN_DIR ...]``. Prints seconds (best
of 3), sizes in MB and the ratios plotly / deepaudit (above 1: deepaudit is faster or
smaller), then the load times and their ratio (below 1.3: the goal).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import plotly.io as pio

import deepaudit as da
from deepaudit.reports import render_html, write_report
from deepaudit.reports.views import FigureView, bundle_sections

DEMO_MODELS = ("autoencoder", "cnn", "gan", "lstm", "transformer")


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def overview_runs(folder: Path) -> list[Path]:
    """Overview-only audits of the reference models (when no demo runs exist)."""
    from deepaudit.models import load_model

    runs = []
    for name in DEMO_MODELS:
        target = load_model(name, device="cpu")
        config = da.AuditConfig(
            families=["overview"], max_samples=2000, output_dir=folder / name, progress=False
        )
        da.run_audit(target, config)
        runs.append(folder / name)
    return runs


def main(argv: list[str]) -> None:
    runs = [Path(a) for a in argv]
    if not runs:
        demo = Path("runs/demo")
        runs = sorted(p.parent for p in demo.glob("*/bundle.json"))
    scratch = Path(tempfile.mkdtemp(prefix="bench_reports."))
    if not runs:
        print("no runs under runs/demo: auditing the reference models (overview only)...")
        runs = overview_runs(scratch / "runs")
    render_html(da.load_bundle(runs[0]))  # warm up: plotly.js read, template compiled
    header = (
        f"{'run':14s} {'figs':>4s} {'render s':>9s} {'write s':>8s} {'MB':>6s} "
        f"{'plotly s':>9s} {'plotly MB':>10s} {'time ratio':>10s} {'size ratio':>10s}"
    )
    print(header)
    total_write = 0.0
    for run in runs:
        bundle = da.load_bundle(run)
        figures = [
            v.figure for s in bundle_sections(bundle) for v in s.items if isinstance(v, FigureView)
        ]
        render = best_of(lambda b=bundle: render_html(b))
        out = scratch / f"{run.name}.html"
        write = best_of(lambda r=run, o=out: write_report(r, o))
        total_write += write
        size = out.stat().st_size / 1e6

        def plotly_pages(figs=figures) -> list[str]:
            return [pio.to_html(f, include_plotlyjs=True, full_html=True) for f in figs]

        plotly_seconds = best_of(plotly_pages) if figures else float("nan")
        plotly_size = sum(len(p.encode()) for p in plotly_pages()) / 1e6 if figures else 0.0
        print(
            f"{run.name:14s} {len(figures):4d} {render:9.3f} {write:8.3f} {size:6.2f} "
            f"{plotly_seconds:9.3f} {plotly_size:10.2f} {plotly_seconds / write:10.2f} "
            f"{plotly_size / size:10.2f}"
        )
    print(f"writing the {len(runs)} reports: {total_write:.2f} s")
    load_times(runs, scratch)


LOAD_EVENT = """() => new Promise(done => {
    const read = () => {
        const entry = performance.getEntriesByType("navigation")[0];
        if (entry && entry.loadEventEnd > 0) { done(entry.loadEventEnd); }
        else { setTimeout(read, 20); }
    };
    read();
})"""


ALL_DRAWN = """() => Array.from(document.querySelectorAll("div.plot, div.plotly-graph-div"))
    .every(d => d.classList.contains("js-plotly-plot"))"""


def load_times(runs: list[Path], scratch: Path) -> None:
    """Milliseconds to the load event: each report, and plotly.js with one figure."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.reports.helpers import find_chromium

    chromium = find_chromium()
    if chromium is None:
        print("no Chromium: load times skipped (install Debian's chromium)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])

        def load(path: Path) -> tuple[float, float]:
            """Best of 3: ms to the load event, and to every figure drawn."""
            best, drawn = float("inf"), float("inf")
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(path.resolve().as_uri(), wait_until="load")
                best = min(best, page.evaluate(LOAD_EVENT))
                page.wait_for_function(ALL_DRAWN, timeout=120_000)
                drawn = min(drawn, page.evaluate("() => performance.now()"))
                page.close()
            return best, drawn

        print(
            f"\n{'run':14s} {'report ms':>10s} {'plotly ms':>10s} {'ratio':>6s}  (goal <= 1.3)"
            f" {'all figures drawn ms':>21s}"
        )
        for run in runs:
            report = scratch / f"{run.name}.html"
            bundle = da.load_bundle(run)
            figure = next(
                (v.figure for s in bundle_sections(bundle) for v in s.items
                 if isinstance(v, FigureView)),
                None,
            )  # fmt: skip
            if figure is None:
                continue
            baseline = scratch / f"{run.name}.plotly.html"
            baseline.write_text(pio.to_html(figure, include_plotlyjs=True, full_html=True))
            (ours, drawn), (theirs, _) = load(report), load(baseline)
            print(
                f"{run.name:14s} {ours:10.0f} {theirs:10.0f} {ours / theirs:6.2f}"
                f"{'':15s} {drawn:21.0f}"
            )
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
