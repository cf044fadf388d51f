"""Embedding plotly in one offline HTML file: the bundled plotly.js, figure JSON, CSP hashes.

plotly.js is read from the plotly package (the minified bundle it ships) and embedded
once per report. Figures travel as JSON in ``<script type="application/json">`` blocks,
with ``<``, ``>``, ``&`` and the JavaScript line separators written as ``\\uXXXX``
escapes, so no string from data can close the block or open a tag. Each figure's
layout template (several kilobytes, identical across figures) is stored once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

from deepaudit.reports.views.base import inert

if TYPE_CHECKING:
    import plotly.graph_objects as go

_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


@functools.cache
def plotly_js() -> str:
    """The minified plotly.js bundle that ships with the plotly package (about 4.8 MB)."""
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    # An inline script ends at the first "</script"; the bundle has none, keep it so.
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def script_json(value: Any) -> str:
    """JSON text safe inside ``<script type="application/json">`` (and in JavaScript)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.translate(_SCRIPT_SAFE)


def csp_hash(script: str) -> str:
    """The Content-Security-Policy source allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@functools.cache
def plotly_js_hash() -> str:
    return csp_hash(plotly_js())


class FigureStore:
    """Collects figures as script-safe JSON, keeping each distinct layout template once."""

    def __init__(self) -> None:
        self.figures: list[tuple[str, str]] = []  # (element id, JSON text)
        self._templates: dict[str, int] = {}

    def add(self, figure: go.Figure, element_id: str) -> str:
        """Store ``figure``, every label made inert (:func:`inert`); return the id of the
        ``<script>`` block that holds it."""
        spec = json.loads(figure.to_json())  # plotly's encoder: numpy arrays, dates, NaN
        layout = spec.setdefault("layout", {})
        template = layout.pop("template", None)
        index = None
        if template is not None:
            key = json.dumps(template, sort_keys=True)
            index = self._templates.setdefault(key, len(self._templates))
        payload = {"data": inert(spec.get("data", [])), "layout": inert(layout), "template": index}
        script_id = f"figure-data-{len(self.figures)}"
        self.figures.append((script_id, script_json(_finite(payload))))
        return script_id

    def templates_json(self) -> str:
        ordered = sorted(self._templates.items(), key=lambda kv: kv[1])
        return script_json([json.loads(key) for key, _ in ordered])


def _finite(value: Any) -> Any:
    """NaN and infinities become null (strict JSON; plotly leaves a gap there)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
