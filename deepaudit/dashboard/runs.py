"""Where the dashboard's audits come from: saved run folders, and new audits it runs.

No streamlit here: finding run folders, stamping them for caches, and running a reference
model's audit the way ``deepaudit audit`` / ``deepaudit demo`` do (``run_audit`` saving
into the run folder, then the HTML report beside it when the reports part is installed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepaudit.results import ARRAYS_FILE, BUNDLE_FILE, AuditBundle

#: Where ``deepaudit demo`` writes, relative to the working folder; the dashboard opens on it.
DEFAULT_RUNS_ROOT = Path("runs") / "demo"
#: Samples per reference model in the demo's fast budget (``deepaudit demo`` without --full).
DEMO_MAX_SAMPLES = 2000

NOT_A_RUN_MESSAGE = (
    "{path} is neither a run folder (bundle.json + arrays.npz) nor a folder of runs."
)


@dataclass(frozen=True)
class RunRef:
    """A saved run folder and the label the dashboard shows for it."""

    label: str
    path: Path

    @property
    def stamp(self) -> tuple[str, int, int]:
        """The path and modification times of its two files: a cache key that changes
        whenever the run is saved again."""
        return run_stamp(self.path)


def is_run(path: Path) -> bool:
    """Whether ``path`` is a saved run folder (it holds ``bundle.json``); a hidden folder,
    such as a save's staging folder ``.NAME.xxxx.tmp``, never is."""
    return not path.name.startswith(".") and (path / BUNDLE_FILE).is_file()


def run_stamp(path: str | os.PathLike) -> tuple[str, int, int]:
    """``(resolved path, mtime_ns of bundle.json, mtime_ns of arrays.npz)``."""
    path = Path(path).resolve()

    def mtime(name: str) -> int:
        try:
            return (path / name).stat().st_mtime_ns
        except OSError:
            return -1

    return str(path), mtime(BUNDLE_FILE), mtime(ARRAYS_FILE)


def discover_runs(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Run folders named by ``paths``: each is a run folder or a folder of run folders.

    Returns the run folders (in the order given; a folder of runs in name order) and a
    message for each path that is neither, so the page can say what it skipped.
    """
    found: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if is_run(path):
            found.append(path)
            continue
        children = sorted(p for p in path.iterdir() if is_run(p)) if path.is_dir() else []
        if children:
            found.extend(children)
        else:
            problems.append(NOT_A_RUN_MESSAGE.format(path=path))
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique, problems


def label_runs(paths: Sequence[Path]) -> list[RunRef]:
    """Label each run by its folder name, adding the parent folder where names repeat."""
    names = [p.name for p in paths]
    refs = []
    for path in paths:
        label = path.name if names.count(path.name) == 1 else f"{path.parent.name}/{path.name}"
        refs.append(RunRef(label, path))
    labels = [r.label for r in refs]
    return [r if labels.count(r.label) == 1 else RunRef(str(r.path), r.path) for r in refs]


def applicable_families(target) -> list[str]:
    """Every registered audit family that applies to ``target`` (what the CLI runs)."""
    from deepaudit.families import get_family, list_families

    return [f for f in list_families() if get_family(f).applies_to(target) is None]


def audit_reference_model(
    name: str,
    out: str | os.PathLike,
    *,
    families: Sequence[str] | None = None,
    seed: int = 0,
    device: str = "auto",
    max_samples: int | None = DEMO_MAX_SAMPLES,
    options: dict | None = None,
    write_html: bool = True,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> AuditBundle:
    """Audit the reference model ``name`` and save the run folder ``out``, as the CLI does.

    ``on_progress`` is :func:`deepaudit.run_audit`'s (before each family, and at the end).

    ``families=None`` runs every applicable family. The HTML report is written beside the
    bundle when ``write_html`` and the reports part is installed.
    """
    from deepaudit.audit import AuditConfig, run_audit
    from deepaudit.models import load_model

    target = load_model(name, device=device)
    config = AuditConfig(
        families=list(families) if families else applicable_families(target),
        options=dict(options or {}),
        seed=seed,
        device=device,
        max_samples=max_samples,
        output_dir=Path(out),
        progress=False,
    )
    bundle = run_audit(target, config, on_progress=on_progress)
    if write_html:
        write_html_report(Path(out))
    return bundle


def audit_reference_models(
    root: str | os.PathLike,
    names: Sequence[str] | None = None,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
    **kwargs,
) -> list[Path]:
    """Audit several reference models into ``root/<name>`` (``deepaudit demo``'s layout).

    ``on_progress(done, total, name)`` is called before each model and once at the end
    (with ``name=""``), so a page can draw a progress bar. Returns the run folders.
    """
    from deepaudit.models import list_models

    root = Path(root)
    names = list(names) if names is not None else list_models()
    written = []
    for i, name in enumerate(names):
        if on_progress is not None:
            on_progress(i, len(names), name)
        audit_reference_model(name, root / name, **kwargs)
        written.append(root / name)
    if on_progress is not None:
        on_progress(len(names), len(names), "")
    try:
        from deepaudit.reports import write_index
    except ImportError:
        pass
    else:
        write_index(root, written)
    return written


def write_html_report(run_dir: Path) -> Path | None:
    """The run's ``report.html``, when the reports part is installed (else ``None``)."""
    try:
        from deepaudit.reports import write_report
    except ImportError:
        return None
    return write_report(run_dir, run_dir / "report.html")
