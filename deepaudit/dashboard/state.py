"""The dashboard's state: which runs it shows, loading them once, the model on screen.

Runs come from the folders given on the command line (``deepaudit dashboard RUN_DIR ...``),
else from ``runs/demo`` (what ``deepaudit demo`` writes, audited here the first time when
it is empty), plus those a user runs or uploads during the session. Bundles, sections, the
pages' own figures and tables, and HTML reports are cached once per server process (every
session shares them) on the run's path and file modification times, so a run saved again
is read again and nothing else is. What is cached is shared: a page never changes it (the
bundle's arrays are read-only, figures are drawn from inert copies).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from deepaudit.dashboard.archive import zip_run
from deepaudit.dashboard.render import inert_section
from deepaudit.dashboard.runs import (
    DEFAULT_RUNS_ROOT,
    RunRef,
    audit_reference_models,
    discover_runs,
    label_runs,
)
from deepaudit.errors import DeepAuditError
from deepaudit.reports.views import Section, family_section
from deepaudit.results import AuditBundle

#: Session-state keys. Tests (and embedders) may set the first four before the first run.
RUN_DIRS_KEY = "deepaudit.run_dirs"  # list of paths; [] means "open the default root"
RUNS_ROOT_KEY = "deepaudit.runs_root"  # the default root (runs/demo)
BOOTSTRAP_KEY = "deepaudit.bootstrap"  # kwargs of audit_reference_models for the first start
EXTRA_KEY = "deepaudit.extra_runs"  # run folders added by the Run and Open pages
CURRENT_KEY = "deepaudit.current"  # label of the run on screen (the sidebar's selectbox)
SELECT_NEXT_KEY = "deepaudit.select_next"  # a run folder to put on screen at the next run

APP_FILE = Path(__file__).with_name("app.py")
_BOOTSTRAP_LOCK = threading.Lock()
T = TypeVar("T")


def command_line_run_dirs() -> list[str]:
    """Run folders passed after ``--`` to ``streamlit run app.py`` (by the CLI)."""
    try:
        launched = Path(sys.argv[0]).resolve() == APP_FILE.resolve()
    except (IndexError, OSError):
        launched = False
    return list(sys.argv[1:]) if launched else []


def initial_run_dirs() -> list[str]:
    """The run folders the dashboard was opened on ([] means the default root)."""
    if RUN_DIRS_KEY not in st.session_state:
        st.session_state[RUN_DIRS_KEY] = command_line_run_dirs()
    return [str(p) for p in st.session_state[RUN_DIRS_KEY]]


def runs_root() -> Path:
    """Where the reference models' audits live (``runs/demo`` unless set)."""
    return Path(st.session_state.get(RUNS_ROOT_KEY, DEFAULT_RUNS_ROOT))


def run_refs() -> tuple[list[RunRef], list[str]]:
    """Every run this session shows, labelled, and a message for each path skipped."""
    given = initial_run_dirs()
    if given:
        paths, problems = discover_runs(given)
    else:
        root = runs_root()
        paths, problems = discover_runs([root]) if root.is_dir() else ([], [])
        problems = [] if not paths else problems
    extra, extra_problems = discover_runs(st.session_state.get(EXTRA_KEY, []))
    seen = {p.resolve() for p in paths}
    paths += [p for p in extra if p.resolve() not in seen]
    return label_runs(paths), problems + extra_problems


def add_run(path: str | Path, *, select: bool = True) -> None:
    """Show a new run (just audited or uploaded) and, by default, put it on screen from
    the next script run on (the sidebar applies it before drawing its selector)."""
    extra = list(st.session_state.get(EXTRA_KEY, []))
    if str(path) not in extra:
        extra.append(str(path))
    st.session_state[EXTRA_KEY] = extra
    if select:
        st.session_state[SELECT_NEXT_KEY] = str(path)


def apply_pending_selection(refs: list[RunRef]) -> None:
    """Put the run named by :func:`add_run` on screen (before the selector is drawn)."""
    pending = st.session_state.pop(SELECT_NEXT_KEY, None)
    if pending is None:
        return
    for ref in refs:
        if ref.path.resolve() == Path(pending).resolve():
            st.session_state[CURRENT_KEY] = ref.label


@st.cache_resource(max_entries=64, show_spinner="Loading the audit…")
def _load(path: str, stamp: tuple[str, int, int]) -> AuditBundle:
    """A bundle read once per path and modification times, its arrays made read-only:
    every session shares it, so no page may change it."""
    return read_only(AuditBundle.load(path))


def read_only(bundle: AuditBundle) -> AuditBundle:
    """``bundle`` with every array marked read-only (writing into one raises)."""
    for result in bundle.families.values():
        for array in result.arrays.values():
            if hasattr(array, "setflags"):
                array.setflags(write=False)
    return bundle


def load(ref: RunRef) -> AuditBundle:
    """The run's bundle (cached); raises :class:`~deepaudit.errors.BundleError` if unreadable."""
    return _load(str(ref.path), ref.stamp)


def load_all(refs: list[RunRef]) -> tuple[dict[str, AuditBundle], dict[str, str]]:
    """Every readable run's bundle by label, and the error of each unreadable one."""
    bundles, errors = {}, {}
    for ref in refs:
        try:
            bundles[ref.label] = load(ref)
        except DeepAuditError as exc:
            errors[ref.label] = str(exc)
    return bundles, errors


def content_key(bundle: AuditBundle) -> str:
    """What the views of a bundle are cached on: the sha256 of the ``bundle.json`` it was
    read from (which records its arrays' sha256), so a view is never one of another save
    of the run, even one made while the run was being saved again."""
    return bundle.source_sha256 or f"unsaved-{id(bundle)}"


@st.cache_resource(max_entries=256, show_spinner=False)
def _section(key: str, family: str, _bundle: AuditBundle) -> Section:
    return inert_section(family_section(_bundle, family))


def section(bundle: AuditBundle, family: str) -> Section:
    """The family's view of the bundle (the same function the HTML report calls), built
    once per process with its figures made inert; shared, so never changed by a page."""
    return _section(content_key(bundle), family, bundle)


@st.cache_resource(max_entries=512, show_spinner=False)
def _view(key: str, name: str, choices: tuple, _build: Callable) -> object:
    return _build()


def view(
    bundle: AuditBundle, name: str, choices: tuple[Hashable, ...], build: Callable[[], T]
) -> T:
    """What ``build()`` returns for the bundle on screen and a page's ``choices`` (its
    widget values), built once per process and shared by every session: ``name`` says
    which figure or table it is. A figure in it should be made inert by ``build``
    (:func:`~deepaudit.dashboard.render.inert_once`); nothing in it may be changed."""
    return _view(content_key(bundle), name, tuple(choices), build)


def reports_available() -> bool:
    """Whether this deepaudit renders HTML reports."""
    try:
        from deepaudit.reports import render_html  # noqa: F401
    except ImportError:
        return False
    return True


@st.cache_data(max_entries=8, show_spinner=False)
def _report_html(stamp: tuple[str, int, int], _bundle: AuditBundle) -> str:
    from deepaudit.reports import render_html

    return render_html(_bundle)


def report_html(ref: RunRef, bundle: AuditBundle) -> str:
    """The run's self-contained HTML report: :func:`deepaudit.reports.render_html` of the
    bundle on screen (cached per run and save)."""
    return _report_html(ref.stamp, bundle)


@st.cache_data(max_entries=16, show_spinner=False)
def _run_zip(stamp: tuple[str, int, int]) -> bytes:
    return zip_run(stamp[0])


def run_zip(ref: RunRef) -> bytes:
    """The run folder zipped, as the Open page takes it back (cached)."""
    return _run_zip(ref.stamp)


def current(refs: list[RunRef]) -> RunRef | None:
    """The run on screen: the sidebar's choice, else the first run."""
    labels = [r.label for r in refs]
    chosen = st.session_state.get(CURRENT_KEY)
    if chosen not in labels:
        chosen = labels[0] if labels else None
    return next((r for r in refs if r.label == chosen), None)


def bootstrap_reference_audits() -> list[Path]:
    """Audit the reference models into the default root, with a progress bar (first start).

    One session audits at a time; a second one waiting on the lock finds the runs saved.
    """
    root = runs_root()
    options = dict(st.session_state.get(BOOTSTRAP_KEY, {}))
    with _BOOTSTRAP_LOCK:
        paths, _ = discover_runs([root]) if root.is_dir() else ([], [])
        if paths:
            return paths
        st.info(
            f"No saved audits under {root}: auditing the reference models once, as "
            "`deepaudit demo` does. Later starts read the saved runs."
        )
        bar = st.progress(0.0, text="Loading the reference models…")

        def on_progress(done: int, total: int, name: str) -> None:
            text = f"Auditing {name} ({done + 1}/{total})…" if name else "Audits saved."
            bar.progress(done / max(total, 1), text=text)

        return audit_reference_models(root, on_progress=on_progress, **options)
