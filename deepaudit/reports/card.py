"""The report's header as a model card (Mitchell et al., 2019), read from a bundle.

Model, data, intended use, and the audit's own facts: date, versions, hashes, seed,
device and cost. Values stay raw here; the template escapes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle

#: Libraries named in the header, in this order (all recorded versions are in the appendix).
_HEADER_LIBRARIES = ("deepaudit", "torch", "captum", "shap", "lime", "fairlearn", "python")


@dataclass
class ModelCard:
    """The facts of the header, as (label, value) rows per part."""

    name: str
    model: list[tuple[str, Any]] = field(default_factory=list)
    data: list[tuple[str, Any]] = field(default_factory=list)
    audit: list[tuple[str, Any]] = field(default_factory=list)
    intended_use: str = ""
    card_html: Markup | None = None


def model_card(bundle: AuditBundle) -> ModelCard:
    """The header facts of ``bundle``'s report; missing facts are left out, not invented."""
    target, provenance = bundle.target, bundle.provenance
    meta = target.get("metadata") or {}
    card = ModelCard(name=str(target.get("name") or "model"))
    card.model = _present(
        [
            ("name", target.get("name")),
            ("kind", f"{target.get('kind')}, {target.get('modality')} data"),
            ("class", target.get("model_class")),
            ("architecture", meta.get("architecture")),
            ("parameters", _count(target.get("n_parameters"))),
            ("model sha256", provenance.get("model_sha256")),
            ("checkpoint sha256", meta.get("checkpoint_sha256")),
        ]
    )
    sensitive = target.get("sensitive") or {}
    card.data = _present(
        [
            ("data set", meta.get("dataset")),
            ("licence", meta.get("licence")),
            ("audited samples", _count(target.get("n_samples") or None)),
            ("input shape", _shape(target.get("input_shape"))),
            ("classes", _join(target.get("class_names"), limit=12)),
            ("features", _join(target.get("feature_names"), limit=12)),
            (
                "sensitive attributes",
                "; ".join(f"{k} ({_join(v, limit=8)})" for k, v in sensitive.items()),
            ),
            ("data sha256", provenance.get("data_sha256")),
        ]
    )
    versions = provenance.get("versions") or {}
    device = provenance.get("device")
    if provenance.get("device_name"):
        device = f"{device} ({provenance['device_name']})"
    card.audit = _present(
        [
            ("date", provenance.get("created_at")),
            ("seed", provenance.get("seed")),
            ("device", device),
            ("families", ", ".join(bundle.families)),
            ("time", _seconds(provenance.get("seconds"))),
            ("model evaluations", _count(provenance.get("model_evaluations"))),
            (
                "versions",
                ", ".join(
                    f"{name} {versions[name]}" for name in _HEADER_LIBRARIES if versions.get(name)
                ),
            ),
            ("max samples", bundle.config.get("max_samples")),
        ]
    )
    markdown = meta.get("model_card")
    card.intended_use = str(
        meta.get("intended_use")
        or (_markdown_section(markdown, "Intended use") if markdown else "")
    )
    if isinstance(markdown, str) and markdown.strip():
        card.card_html = render_markdown(markdown)
    return card


def audited_line(bundle: AuditBundle) -> str:
    """What was audited, in one line: model, data, attributes, families, seed, time."""
    target, provenance = bundle.target, bundle.provenance
    parts = [f"{target.get('kind') or 'model'} on {target.get('modality') or 'unknown'} data"]
    if target.get("model_class"):
        size = _count(target.get("n_parameters"))
        parts[0] += f" ({target['model_class']}" + (f", {size} parameters)" if size else ")")
    if target.get("n_samples"):
        parts.append(f"{_count(target['n_samples'])} samples")
    sensitive = list(target.get("sensitive") or {})
    if sensitive:
        parts.append("sensitive attributes " + ", ".join(map(str, sensitive)))
    parts.append("families " + ", ".join(bundle.families))
    facts = [f"seed {provenance.get('seed')}"] if provenance.get("seed") is not None else []
    if provenance.get("seconds") is not None:
        facts.append(f"{_seconds(provenance.get('seconds'))} on {provenance.get('device')}")
    if provenance.get("created_at"):
        facts.append(str(provenance["created_at"])[:10])
    return "Audited: " + "; ".join(parts) + (" (" + ", ".join(facts) + ")" if facts else "") + "."


def render_markdown(text: str) -> Markup:
    """Markdown to HTML with raw HTML escaped and links, images and autolinks off.

    Data can carry Markdown (a model card from a user's metadata): it may format text but
    can neither inject markup nor point the reader's browser at another host.
    """
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    parser.disable(["link", "image", "autolink"])
    return Markup(parser.render(text))  # markdown-it escaped every raw character


def _markdown_section(markdown: str, heading: str) -> str:
    match = re.search(
        rf"^#+\s*{re.escape(heading)}\s*$(.*?)(?=^#+\s|\Z)", markdown, re.M | re.S | re.I
    )
    return " ".join(match.group(1).split()) if match else ""


def _present(rows: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in rows if v not in (None, "", [], {})]


def _count(value: Any) -> str | None:
    return None if value is None else f"{int(value):,}"


def _seconds(value: Any) -> str | None:
    return None if value is None else f"{float(value):.1f} s"


def _shape(value: Any) -> str | None:
    return None if not value else " × ".join(map(str, value))


def _join(values: Any, limit: int) -> str | None:
    if not values:
        return None
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown} … ({len(values)} in all)"
