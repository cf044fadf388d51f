"""Every dashboard page in headless Chromium, on runs whose every data-controlled string is
hostile (:mod:`tests.dashboard.hostile`): each string is shown as written, and none of them
makes the page request anything from another host, link anywhere, raise a dialog, create
an element, run a script or typeset LaTeX.

One set of runs and one server for the module; each page is one visit, so a failure names
the page. Skipped, saying so, without Chromium or playwright.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.dashboard import hostile as h
from tests.dashboard.browser import assert_no_exception, dashboard, wait_drawn
from tests.reports.helpers import chromium_browser, require_chromium

pytestmark = pytest.mark.browser

require_chromium(allow_module_level=True)

#: (page address, run folder on screen, hostile strings the page must show as written);
#: the Findings page has a test of its own (its tooltips and evidence too).
VISITS = {
    "model": ("model", h.RUN_FOLDER, (*h.HOSTILE, h.TABULAR_NAME)),
    "explanations": (
        "explanations",
        h.RUN_FOLDER,
        (h.MD_IMAGE, h.BARE_URL, h.MD_LINK, h.WWW, h.MENTION, h.PLANTED_GROUP),
    ),
    "explanations-text": (
        "explanations",
        h.TEXT_FOLDER,
        (h.MD_LINK, h.HTML_LINK, h.WWW, h.MENTION, h.PLANTED_FEATURE),
    ),
    "fairness": (
        "fairness",
        h.RUN_FOLDER,
        (h.MD_LINK, h.LATEX, h.WWW, h.MENTION, h.TEMPLATE, h.JAVASCRIPT),
    ),
    "fairness-generator": ("fairness", h.GENERATOR_FOLDER, (h.MD_LINK, h.HTML_LINK, h.LATEX)),
    "robustness": (
        "robustness",
        h.RUN_FOLDER,
        (h.IMG, h.MD_IMAGE, h.BARE_URL, h.MD_LINK, h.HTML_LINK, h.JAVASCRIPT, h.TEMPLATE),
    ),
    "generative-autoencoder": (
        "generative",
        h.AUTOENCODER_FOLDER,
        (h.IMG, h.MD_IMAGE, h.BARE_URL, h.WWW, h.MENTION, h.TEMPLATE),
    ),
    "generative-generator": ("generative", h.GENERATOR_FOLDER, (h.GENERATOR_FOLDER,)),
    "compare": ("compare", h.RUN_FOLDER, (h.RUN_FOLDER, h.JAVASCRIPT, h.TEMPLATE, h.LATEX)),
    "run": ("run", h.RUN_FOLDER, (h.RUN_FOLDER,)),
    "open": ("open", h.RUN_FOLDER, (h.RUN_FOLDER,)),
}

#: Every attribute that makes the browser fetch or link, an inline event handler, or a
#: CSS url() that points anywhere but the server itself.
LEAKS = """(origin) => {
    const fetching = ["href", "src", "srcset", "action", "formaction", "xlink:href", "poster"];
    const found = [];
    for (const el of document.querySelectorAll("*")) {
        for (const name of el.getAttributeNames()) {
            const value = el.getAttribute(name);
            const said = `<${el.tagName.toLowerCase()} ${name}="${value.slice(0, 120)}">`;
            if (name.startsWith("on")) found.push(said);
            if (name === "style" && /url\\(\\s*['"]?\\s*(\\w+:|\\/\\/)/i.test(value)
                && !/url\\(\\s*['"]?\\s*data:/i.test(value)) found.push(said);
            if (!fetching.includes(name)) continue;
            for (const part of name === "srcset" ? value.split(",") : [value]) {
                let url;
                try { url = new URL(part.trim().split(/\\s+/)[0], document.baseURI); }
                catch (e) { found.push(said); continue; }
                if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin) {
                    found.push(said);
                }
            }
        }
    }
    return found;
}"""
#: Elements a hostile string would have made: typeset math, planted images, script flags.
MADE = """() => [
    ...Array.from(document.querySelectorAll(".katex, mjx-container, .MathJax, math"))
        .map(e => "math: " + e.textContent),
    ...Array.from(document.querySelectorAll("img[src*='127.0.0.1:9'], img[src='x']"))
        .map(e => "img: " + e.outerHTML),
    ...(window.__pwned === undefined ? [] : ["script ran: " + window.__pwned]),
]"""


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory) -> Path:
    """The hostile runs, audited once for the module."""
    root = tmp_path_factory.mktemp("hostile")
    h.hostile_runs(root)
    return root


@pytest.fixture(scope="module")
def server(hostile_root) -> str:
    """One dashboard on the hostile runs for the module; its address."""
    with dashboard([hostile_root]) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as launched:
        yield launched


class Visit:
    """One page of the dashboard, with every request, socket and dialog it caused; any
    request to another origin is refused (and recorded)."""

    def __init__(self, browser, server: str, path: str, run: str) -> None:
        self.origin = server
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda socket: self.requests.append(socket.url))
        self.page.on("dialog", self._dialog)
        self.page.route(lambda url: not self._own(url), lambda route: route.abort())
        self.page.goto(f"{server}/{path}?run={quote(run, safe='')}")
        wait_drawn(self.page)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _own(self, url: str) -> bool:
        """Whether ``url`` is the server itself (its pages, files and socket)."""
        parts, own = urlsplit(url), urlsplit(self.origin)
        return parts.scheme in ("data", "blob") or (
            parts.scheme in ("http", "ws") and parts.netloc == own.netloc
        )

    def text(self) -> str:
        """The page's visible text, without the invisible joiners that break autolinks."""
        return self.page.inner_text("body").replace("\u2060", "")

    def assert_inert(self) -> None:
        """Nothing left the server, linked away, alerted, ran or was made from data."""
        assert [u for u in self.requests if not self._own(u)] == []
        assert self.dialogs == []
        assert self.page.evaluate(LEAKS, self.origin) == []
        assert self.page.evaluate(MADE) == []
        hrefs = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('[href], [src]'))"
            ".map(e => e.getAttribute('href') || e.getAttribute('src'))"
        )
        away = [u for u in hrefs if not u.startswith("#")]  # a heading's own anchor stays
        assert [u for u in away if any(a in u for a in h.HOSTILE_ADDRESSES)] == []
        assert_no_exception(self.page)


@pytest.fixture
def visit(browser, server):
    opened: list[Visit] = []

    def open_page(path: str, run: str) -> Visit:
        opened.append(Visit(browser, server, path, run))
        return opened[-1]

    yield open_page
    for page in opened:
        page.page.close()


@pytest.mark.parametrize("name", list(VISITS))
def test_a_page_shows_hostile_strings_as_written_and_stays_inert(name, visit):
    path, run, shown = VISITS[name]
    page = visit(path, run)
    page.assert_inert()
    text = page.text()
    assert [s for s in shown if s not in text] == []


def test_the_findings_page_its_tooltips_and_evidence_stay_inert(visit):
    """The issues and the grid show the hostile names as written; a cell's tooltip and its
    evidence (with a link to the family's page) are Markdown too, holding the run's name."""
    page = visit("", h.RUN_FOLDER)
    page.assert_inert()
    text = page.text()
    shown = (h.MD_LINK, h.HTML_LINK, h.JAVASCRIPT, h.LATEX, h.TEMPLATE, h.WWW, h.MENTION)
    assert [s for s in (*shown, h.RUN_FOLDER) if s not in text] == []
    cell = page.page.get_by_role("button", name=re.compile(r"^(fail|warn|pass)")).nth(2)
    cell.hover()
    tooltip = page.page.locator("[data-testid=stTooltipContent]")
    tooltip.wait_for(timeout=20_000)
    assert h.RUN_FOLDER in tooltip.inner_text().replace("\u2060", "")
    page.assert_inert()
    cell.click()
    page.page.locator("#cell-evidence").wait_for(timeout=60_000)
    wait_drawn(page.page)
    link = page.page.locator("[data-testid=stPageLink]")
    assert h.RUN_FOLDER in link.inner_text().replace("\u2060", "")
    page.assert_inert()
