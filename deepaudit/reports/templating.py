"""The jinja2 environment of the reports and the static files they inline (CSS, JS).

Autoescaping is on for every template: a ``{{ value }}`` is HTML-escaped unless the
template marks it safe, which it does only for the report's own CSS, JavaScript,
plotly.js and script-safe JSON.
"""

from __future__ import annotations

import functools
from importlib import resources

import jinja2


@functools.cache
def static(name: str) -> str:
    """A file shipped in ``deepaudit/reports/templates`` (package data), as text."""
    return (resources.files("deepaudit.reports") / "templates" / name).read_text("utf-8")


@functools.cache
def environment() -> jinja2.Environment:
    """The templates' environment, autoescaping, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("deepaudit.reports", "templates"),
        autoescape=True,  # every {{ value }} is HTML-escaped unless marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
