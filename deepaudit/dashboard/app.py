"""The deepaudit dashboard: ``deepaudit dashboard [RUN_DIR ...]`` runs this with streamlit.

It opens on the reference models' audits (``runs/demo``, audited here the first time), or
on the run folders given after ``--``. Every page draws the report's own views, so the
numbers on screen are the numbers in the HTML report.
"""

from __future__ import annotations

import streamlit as st

from deepaudit.dashboard import sidebar, state
from deepaudit.dashboard.navigation import build_pages
from deepaudit.errors import DeepAuditError


def main() -> None:
    """Load the runs (auditing the reference models on a first start), then the page."""
    st.set_page_config(page_title="deepaudit", page_icon="🔎", layout="wide")
    refs, problems = state.run_refs()
    if not refs and not state.initial_run_dirs():
        try:
            state.bootstrap_reference_audits()
        except DeepAuditError as exc:
            st.error(f"The reference audits could not run: {exc}")
        else:
            refs, problems = state.run_refs()
    sidebar.draw(refs, problems)
    st.navigation(build_pages()).run()


main()
