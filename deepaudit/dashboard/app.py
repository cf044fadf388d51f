"""The deepaudit dashboard: ``deepaudit dashboard [RUN_DIR ...]`` runs this with streamlit.

It opens on the reference models' audits (``runs/demo``, audited here the first time), or
on the run folders given after ``--``. Every page draws the report's own views, so the
numbers on screen are the numbers in the HTML report.
"""

from __future__ import annotations

import streamlit as st

from deepaudit.dashboard import sidebar, state
from deepaudit.dashboard.navigation import build_pages
from deepaudit.dashboard.render import md_escape
from deepaudit.errors import DeepAuditError

#: Where the dashboard says it set a streamlit option (``streamlit config show`` prints it).
SET_BY = "deepaudit dashboard"


def skip_forced_collection() -> None:
    """Turn off streamlit's full garbage collection after every script run
    (``runner.postScriptGC``), unless the user set it. The bundles and views every
    session shares stay in memory, so that collection walks them all: about 0.2 s with
    the interpreter lock held, which ten sessions then wait on in turn. Python's own
    collector still runs as garbage accumulates."""
    from streamlit import config
    from streamlit.config_option import ConfigOption

    if config.get_where_defined("runner.postScriptGC") == ConfigOption.DEFAULT_DEFINITION:
        config.set_option("runner.postScriptGC", False, SET_BY)


def main() -> None:
    """Load the runs (auditing the reference models on a first start), then the page."""
    skip_forced_collection()
    st.set_page_config(page_title="deepaudit", page_icon="🔎", layout="wide")
    refs, problems = state.run_refs()
    if not refs and not state.initial_run_dirs():
        try:
            state.bootstrap_reference_audits()
        except DeepAuditError as exc:
            st.error(f"The reference audits could not run: {md_escape(exc)}")
        else:
            refs, problems = state.run_refs()
    sidebar.draw(refs, problems)
    st.navigation(build_pages()).run()


main()
