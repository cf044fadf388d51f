"""The index page of several audits: each model's report with its worst finding and counts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from deepaudit.reports._io import atomic_write_text
from deepaudit.reports.findings import severity_counts
from deepaudit.reports.render import REPORT_FILE
from deepaudit.reports.templating import environment, static
from deepaudit.results import SEVERITIES, load_bundle
from deepaudit.run_folder import is_current

INDEX_FILE = "index.html"
#: Files beside a run's report that the index links when they exist.
_COMPANIONS = (("findings.json", "JSON"), ("findings.md", "Markdown"))


def write_index(
    out_dir: str | os.PathLike,
    run_dirs: Iterable[str | os.PathLike],
    title: str = "deepaudit reports",
) -> Path:
    """Write ``out_dir/index.html`` linking the report of each run folder in ``run_dirs``.

    Each row shows the model, its worst finding and the count of each severity. Links are
    relative, so the folder can be moved or zipped whole. A report or findings file made
    from another bundle than the one now in its folder is not linked.
    """
    out_dir = Path(out_dir)
    entries = []
    for run_dir in map(Path, run_dirs):
        bundle = load_bundle(run_dir)
        report = run_dir / REPORT_FILE
        files = [
            (label, _relative(run_dir / name, out_dir))
            for name, label in _COMPANIONS
            if is_current(run_dir / name, run_dir)
        ]
        entries.append(
            {
                "name": str(bundle.target.get("name") or run_dir.name),
                "kind": bundle.target.get("kind"),
                "modality": bundle.target.get("modality"),
                "worst": bundle.worst_severity,
                "counts": severity_counts(bundle),
                "families": ", ".join(bundle.families),
                "seconds": float(bundle.provenance.get("seconds") or 0.0),
                "created_at": _when(bundle.provenance.get("created_at")),
                "report": _relative(report, out_dir) if is_current(report, run_dir) else None,
                "files": files,
            }
        )
    html = (
        environment()
        .get_template("index.html.j2")
        .render(
            title=title,
            entries=entries,
            severities=SEVERITIES,
            total_seconds=sum(e["seconds"] for e in entries) if entries else None,
            generated=_when(datetime.now(UTC).isoformat(timespec="seconds")),
            css=static("report.css"),
        )
    )
    return atomic_write_text(out_dir / INDEX_FILE, html)


def _when(iso: str | None) -> str:
    """An ISO time as a reader wants it: ``2026-01-31 14:05 UTC`` (as given if unparsable)."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
