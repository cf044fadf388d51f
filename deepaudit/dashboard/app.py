"""The deepaudit dashboard: ``deepaudit dashboard [RUN_DIR ...]`` runs this with streamlit.

It opens on the reference models' audits (``runs/demo``, audited here the first time), or
on the run folders given after ``--``. Every page draws the report's own views, so the
numbers on screen are the numbers in the HTML report.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from deepaudit.dashboard import sidebar, state
from deepaudit.errors import DeepAuditError

#: Not named "pages": a folder of that name turns on streamlit's older multipage mode,
#: which runs a page script without this one (no sidebar, no loaded runs).
PAGES_DIR = Path(__file__).with_name("screens")

#: (file, title, icon) of every page, in the order of the navigation menu.
PAGES = (
    ("findings.py", "Findings", ":material/fact_check:"),
    ("model.py", "Model", ":material/insights:"),
    ("explanations.py", "Explanations", ":material/lightbulb:"),
    ("fairness.py", "Fairness", ":material/balance:"),
    ("robustness.py", "Robustness", ":material/shield:"),
    ("generative.py", "Generative", ":material/grid_view:"),
    ("compare.py", "Compare", ":material/compare:"),
    ("run.py", "Run", ":material/play_circle:"),
    ("open.py", "Open", ":material/upload_file:"),
)


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
    pages = [
        st.Page(PAGES_DIR / file, title=title, icon=icon, default=i == 0)
        for i, (file, title, icon) in enumerate(PAGES)
    ]
    st.navigation(pages).run()


main()
