"""What every page starts from: the run on screen, or a family's results in it."""

from __future__ import annotations

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.render import md_escape
from deepaudit.dashboard.runs import RunRef
from deepaudit.errors import DeepAuditError
from deepaudit.reports.views import Section
from deepaudit.results import AuditBundle, FamilyResult

NO_RUN_TEXT = "No audit is loaded yet: start one on the Run page or upload one on the Open page."


def on_screen() -> tuple[RunRef, AuditBundle]:
    """The run chosen in the sidebar and its bundle; stops the page when there is none."""
    refs, _ = state.run_refs()
    ref = state.current(refs)
    if ref is None:
        st.info(NO_RUN_TEXT)
        st.stop()
    try:
        return ref, state.load(ref)
    except DeepAuditError as exc:
        st.error(md_escape(exc))
        st.stop()
        raise  # pragma: no cover - st.stop() raises


def family_on_screen(family: str, title: str) -> tuple[RunRef, AuditBundle, FamilyResult, Section]:
    """The run on screen with its ``family`` results and their view; when the run has no
    such results the page says which runs do, and stops."""
    st.title(title)
    ref, bundle = on_screen()
    if family not in bundle.families:
        refs, _ = state.run_refs()
        bundles, _ = state.load_all(refs)
        having = [label for label, b in bundles.items() if family in b.families]
        kind = f"{bundle.target.get('kind')} on {bundle.target.get('modality')} data"
        st.info(
            f"The run {md_escape(ref.label)} ({md_escape(kind)}) has no {family} results."
            + (
                " Choose one that has in the sidebar: " + ", ".join(map(md_escape, having)) + "."
                if having
                else ""
            )
        )
        st.stop()
    return ref, bundle, bundle.families[family], state.section(bundle, family)


def widget_key(base: str) -> str:
    """A widget key of the run on screen (``"fairness.threshold|tabular"``): each run keeps
    its own choices, and a choice valid for one run never reaches another's widget."""
    return f"{base}|{st.session_state.get(state.CURRENT_KEY)}"
