"""The report in a real headless Chromium: it draws every figure, runs no planted script, and
asks for nothing but its own file.

Debian's ``chromium`` drives these tests through Playwright (``executable_path``; Playwright
downloads no browser). ``.ci/run`` installs it; where it cannot be found the tests are
skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deepaudit.reports import write_findings, write_index, write_report
from tests.reports.helpers import (
    PLANTED_CLASS,
    PLANTED_FEATURE,
    PLANTED_GROUP,
    PLANTED_LINK,
    chromium_browser,
    require_chromium,
)

pytestmark = pytest.mark.browser

require_chromium(allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as launched:
        yield launched


class Visit:
    """A page opened from disk, with every request, console message and error it caused."""

    def __init__(self, browser, path: Path, height: int = 900) -> None:
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": height})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.route("**/*", self._route)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:  # nothing leaves the machine, and the test sees that something tried
            route.abort()

    def wait_drawn(self) -> None:
        """Figures are drawn near the screen first, the rest just after the load event."""
        self.page.wait_for_function(
            """() => Array.from(document.querySelectorAll("div.plot"))
                .every(d => d.classList.contains("js-plotly-plot") || d.textContent !== "")""",
            timeout=60_000,
        )

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_page(path: Path, height: int = 900) -> Visit:
        opened.append(Visit(browser, path, height))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


DRAWN = """() => Array.from(document.querySelectorAll("div.plot")).map(
    div => div.classList.contains("js-plotly-plot")
        && div.querySelector("svg.main-svg, canvas") !== null
        && div.querySelectorAll(".plot .trace, .plot image, .heatmaplayer image, .barlayer .point, .scatterlayer .trace").length > 0
)"""
EXTERNAL = """() => Array.from(document.querySelectorAll("[src], [href]")).map(
    e => e.getAttribute("src") || e.getAttribute("href")).filter(u => /^\\s*(https?:)?\\/\\//i.test(u))"""


def test_a_report_in_chromium_draws_runs_nothing_planted_and_stays_offline(
    planted_bundle, saved, visit, tmp_path
):
    """One page load (plotly.js takes seconds to parse here) checked for everything."""
    report = write_report(saved(planted_bundle))
    page = visit(report)
    # every figure drew: the confusion matrix, the reliability diagram, the planted bars
    page.wait_drawn()
    drawn = page.page.evaluate(DRAWN)
    assert len(drawn) == 3 and all(drawn), drawn
    # nothing but the file itself was requested; no element points at another host
    assert page.requests == [report.resolve().as_uri()]
    assert page.page.evaluate(EXTERNAL) == []
    # a label from data that plotly would draw as a link is drawn as text
    assert page.page.evaluate("() => document.querySelectorAll('svg a').length") == 0
    legend = page.page.evaluate(
        "() => Array.from(document.querySelectorAll('#planted-bars .legendtext'))"
        ".map(t => t.textContent)"
    )
    assert PLANTED_LINK in legend
    # the planted markup did not run, and reads as written
    assert page.page.evaluate("() => window.__pwned === undefined")
    text = page.page.inner_text("body")
    assert PLANTED_FEATURE in text  # feature name: model card, method cost, paragraph
    assert PLANTED_GROUP in text  # group label: model card, table, finding
    assert PLANTED_CLASS in text  # class name: per-class table, finding
    assert page.page.evaluate("() => document.querySelectorAll('img').length") == 0
    n_data = len(page.page.query_selector_all('script[type="application/json"]'))
    assert page.page.evaluate("() => document.scripts.length") == 2 + n_data
    ticks = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("#planted-bars .xtick text"))
            .map(t => t.textContent)"""
    )
    assert PLANTED_GROUP in ticks  # a plotly label from data: shown, not parsed
    # every finding's evidence link lands on an element of the page
    targets = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("#issues a[href^='#']"))
            .map(a => document.getElementById(a.getAttribute("href").slice(1)) !== null)"""
    )
    assert len(targets) == len(planted_bundle.findings) and all(targets)
    shot = tmp_path / "report.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    # printable: the navigation hides and the page prints to PDF
    page.page.emulate_media(media="print")
    hidden = "() => getComputedStyle(document.querySelector('nav.toc')).display"
    assert page.page.evaluate(hidden) == "none"
    pdf = page.page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    assert page.problems == []  # no console error or warning, no uncaught exception


@pytest.mark.parametrize("which", ["autoencoder_bundle", "generator_bundle"])
def test_autoencoder_and_generator_reports_draw_offline(which, request, saved, visit):
    report = write_report(saved(request.getfixturevalue(which)))
    page = visit(report)
    page.wait_drawn()
    drawn = page.page.evaluate(DRAWN)
    assert len(drawn) == 1 and all(drawn), drawn  # the error histogram / the sample grid
    assert page.problems == []
    assert page.requests == [report.resolve().as_uri()]


def test_the_index_links_every_report(classifier_bundle, generator_bundle, saved, visit, tmp_path):
    runs = [saved(classifier_bundle, "a"), saved(generator_bundle, "b")]
    for run in runs:
        write_report(run)
        write_findings(
            __import__("deepaudit").load_bundle(run), run / "findings.json", run / "findings.md"
        )
    index = write_index(tmp_path, runs)
    page = visit(index)
    hrefs = page.page.evaluate("() => Array.from(document.querySelectorAll('a')).map(a => a.href)")
    assert sorted(h.rsplit("/", 2)[-2:][0] + "/" + h.rsplit("/", 1)[-1] for h in hrefs) == sorted(
        [f"{r.name}/{f}" for r in runs for f in ("report.html", "findings.json", "findings.md")]
    )
    assert all(Path(h.removeprefix("file://")).is_file() for h in hrefs)
    assert page.problems == []
    assert page.requests == [index.resolve().as_uri()]


# -- reading: issues first, tables within the page, a filter, page 1 in print ---------------


@pytest.fixture(scope="module")
def biased_report(tmp_path_factory) -> Path:
    """A real audit of a model with a planted group effect: fairness and explanations."""
    import deepaudit as da
    from tests.audit.fairness.fairness_toys import group_target

    out = tmp_path_factory.mktemp("biased") / "run"
    config = da.AuditConfig(
        families=["overview", "fairness", "explain"],
        options={"explain": {"methods": ["integrated_gradients", "kernel_shap"]}},
        output_dir=out,
        progress=False,
    )
    da.run_audit(group_target(0, n=800, group_weight=3.0), config)
    return write_report(out)


VISIBLE_TABLES_PAST_THE_PAGE = """() => {
    const right = document.querySelector("main").getBoundingClientRect().right;
    return Array.from(document.querySelectorAll("table"))
        .filter(t => t.checkVisibility() && t.getBoundingClientRect().right > right + 1)
        .map(t => t.id + ": " + Math.round(t.getBoundingClientRect().right) + " > " + right);
}"""


def test_the_first_screen_holds_the_verdict_and_a_fail_issue(biased_report, visit):
    page = visit(biased_report, height=800)
    box = page.page.locator(".issue.sev-fail").first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800  # above the fold
    assert page.page.locator(".issue.sev-fail .title").first.is_visible()
    assert page.page.locator(".verdict .badge.sev-fail").is_visible()
    card = page.page.locator("#model-card").bounding_box()
    assert card["y"] > box["y"]  # the model card follows the issues
    assert page.page.evaluate(VISIBLE_TABLES_PAST_THE_PAGE) == []
    assert page.problems == []


def test_the_severity_filter_hides_passes_without_a_server(biased_report, visit):
    page = visit(biased_report)
    issue = page.page.locator(".issue.sev-fail").first
    issue.locator("details.issue-findings > summary").click()  # unfold its findings
    passed = issue.locator(".finding.sev-pass")
    failed = issue.locator(".finding.sev-fail")
    assert passed.count() > 0 and failed.count() > 0
    assert passed.first.is_visible()
    page.page.locator(".severity-filter input[value=pass]").uncheck()
    every_pass = page.page.locator(".finding.sev-pass, .issue.sev-pass")
    assert all(every_pass.evaluate_all("items => items.map(e => e.hidden)"))
    assert not passed.first.is_visible() and failed.first.is_visible()
    page.page.locator(".severity-filter input[value=fail]").uncheck()
    assert not issue.is_visible()
    page.page.locator(".severity-filter input[value=pass]").check()
    page.page.locator(".severity-filter input[value=fail]").check()
    assert passed.first.is_visible() and issue.is_visible()
    assert page.requests == [biased_report.resolve().as_uri()]
    assert page.problems == []


def test_the_pdf_holds_the_verdict_and_the_issues_on_page_one(biased_report, visit):
    pypdf = pytest.importorskip("pypdf")
    import io
    import unicodedata

    page = visit(biased_report)
    titles = page.page.locator(".issue-list > .issue:not(.sev-pass) .title").all_inner_texts()
    assert titles
    pdf = pypdf.PdfReader(io.BytesIO(page.page.pdf(format="A4")))
    first = " ".join(unicodedata.normalize("NFKC", pdf.pages[0].extract_text()).split())
    assert "worst finding" in first
    for title in titles:
        assert " ".join(title.split())[:40] in first, title
    assert "Model card" not in first.split("Issues", 1)[0]  # nothing before the issues
