"""The findings of an audit as JSON (for CI systems) and Markdown (for pull-request comments)."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepaudit.reports._io import atomic_write_text
from deepaudit.results import SEVERITIES, severity_tally, tally_text

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, Finding

FINDINGS_SCHEMA = "deepaudit-findings"
#: 3 added ``issues``: the findings grouped by what they concern (:mod:`deepaudit.issues`).
FINDINGS_SCHEMA_VERSION = 3

_MARKS = {"fail": "❌", "warn": "⚠️", "inconclusive": "❔", "pass": "✅"}
# Characters Markdown would read as formatting, links, tables or code.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def severity_counts(bundle: AuditBundle) -> dict[str, int]:
    """How many findings of each severity, worst first (every severity present, maybe 0)."""
    return severity_tally(bundle.findings)


def findings_document(bundle: AuditBundle) -> dict[str, Any]:
    """The findings with what a CI system needs to act on them, as strict-JSON-able data."""
    target, provenance = bundle.target, bundle.provenance
    document = {
        "schema": FINDINGS_SCHEMA,
        "schema_version": FINDINGS_SCHEMA_VERSION,
        "bundle_sha256": bundle.source_sha256,
        "model": target.get("name"),
        "kind": target.get("kind"),
        "modality": target.get("modality"),
        "created_at": provenance.get("created_at"),
        "seed": provenance.get("seed"),
        "device": provenance.get("device"),
        "model_sha256": provenance.get("model_sha256"),
        "data_sha256": provenance.get("data_sha256"),
        "deepaudit_version": (provenance.get("versions") or {}).get("deepaudit"),
        "worst_severity": bundle.worst_severity,
        "incomplete": bundle.incomplete,
        "regraded": provenance.get("regraded"),
        "counts": severity_counts(bundle),
        "families": {
            name: {
                "worst_severity": min(
                    (f.severity for f in result.findings),
                    key=SEVERITIES.index,
                    default="pass",
                ),
                "n_findings": len(result.findings),
                "seconds": result.seconds,
                "model_evaluations": result.model_evaluations,
            }
            for name, result in bundle.families.items()
        },
        "issues": [issue.to_dict() for issue in bundle.issues],
        "findings": [{"id": f.id, **f.to_dict()} for f in bundle.findings],
    }
    return _strict(document)


def findings_json(bundle: AuditBundle, indent: int | None = 2) -> str:
    """:func:`findings_document` as strict JSON (NaN and infinities written as null)."""
    return json.dumps(findings_document(bundle), indent=indent, ensure_ascii=False, allow_nan=False)


def findings_markdown(bundle: AuditBundle) -> str:
    """The findings as a Markdown table, worst first, for a pull-request comment.

    Every string from data is escaped: Markdown punctuation with a backslash, ``<``, ``>``
    and ``&`` as entities, line breaks as spaces, so a name cannot format the comment,
    break its table, add a link or inject HTML.
    """
    target, provenance = bundle.target, bundle.provenance
    counts = severity_counts(bundle)
    worst = bundle.worst_severity
    lines = [] if bundle.source_sha256 is None else [_sha_comment(bundle.source_sha256)]
    lines += [
        f"### {_MARKS[worst]} deepaudit: {md_escape(target.get('name'))} — worst finding: {worst}",
        "",
        " · ".join(f"{n} {s}" for s, n in counts.items())
        + f" — {md_escape(target.get('kind'))}, {md_escape(target.get('modality'))} data; "
        + f"seed {md_escape(provenance.get('seed'))}; "
        + f"{float(provenance.get('seconds') or 0.0):.1f} s on {md_escape(provenance.get('device'))}",
        "",
    ]
    if bundle.incomplete_text is not None:
        lines += [f"**{md_escape(bundle.incomplete_text)}**", ""]
    if not bundle.findings:
        lines.append("No findings.")
        return "\n".join(lines) + "\n"
    issues = [i for i in bundle.issues if i.severity != "pass"]
    if issues:
        lines += ["**Issues**, grouped by what they concern:", ""]
        for issue in issues:
            lines.append(
                f"- {_MARKS[issue.severity]} **{md_escape(issue.title)}** "
                f"({tally_text(issue.counts)}). "
                f"{md_escape(issue.next_step)}"
            )
        lines += ["", "**Every finding**, worst first:", ""]
    lines += ["| | severity | family | finding | evidence |", "|---|---|---|---|---|"]
    for finding in bundle.findings:
        lines.append(
            f"| {_MARKS[finding.severity]} | {finding.severity} | {md_escape(finding.family)} "
            f"| {md_escape(finding.message)} | {md_escape(evidence_summary(finding))} |"
        )
    return "\n".join(lines) + "\n"


def _sha_comment(sha: str) -> str:
    """The bundle this Markdown was made from, invisible where it is rendered."""
    return f"<!-- deepaudit bundle-sha256: {sha} -->"


def write_findings(
    bundle: AuditBundle,
    json_path: str | os.PathLike | None = None,
    markdown_path: str | os.PathLike | None = None,
) -> list[Path]:
    """Write the findings as JSON and/or Markdown (each atomically); return the paths."""
    written = []
    if json_path is not None:
        written.append(atomic_write_text(json_path, findings_json(bundle) + "\n"))
    if markdown_path is not None:
        written.append(atomic_write_text(markdown_path, findings_markdown(bundle)))
    return written


def evidence_summary(finding: Finding) -> str:
    """``metric = value [low, high] (threshold t; group g)`` in a few words."""
    ev = finding.evidence
    text = ev.metric
    if ev.value is not None:
        text += f" = {format_number(ev.value)}"
    if ev.interval is not None:
        text += f" [{format_number(ev.interval[0])}, {format_number(ev.interval[1])}]"
    extra = []
    if ev.threshold is not None:
        extra.append(f"threshold {format_number(ev.threshold)}")
    if ev.group is not None:
        extra.append(f"group {ev.group}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def format_number(value: Any, digits: int = 4) -> str:
    """A number as a reader wants it: ``digits`` significant digits, integers whole."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def md_escape(value: Any) -> str:
    """Escape a string from data for a Markdown table cell (GitHub-flavoured): no
    formatting, no HTML, and no autolink, mention or reference (:func:`defuse_links`)."""
    text = defuse_links(" ".join(str(value).split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


#: What GitHub-flavoured Markdown turns into a link or a ping by itself: a scheme's
#: ``://``, ``www.``, ``@name`` (and e-mail addresses), ``#123`` references.
_AUTOLINKS = re.compile(r"(?i)(?<=\w)(:)(?=//)|(?<=\bwww)(\.)|(@)|(#)(?=\w)")
WORD_JOINER = "\u2060"


def defuse_links(text: str) -> str:
    """``text`` with an invisible word joiner after each character that would start an
    autolink, a mention or a reference, so a renderer shows it as plain text."""
    return _AUTOLINKS.sub(lambda m: m.group(0) + WORD_JOINER, text)


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value
