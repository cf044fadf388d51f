"""The sidebar on every page: which run is on screen, and its downloads."""

from __future__ import annotations

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.render import md_escape
from deepaudit.dashboard.runs import RunRef
from deepaudit.errors import DeepAuditError

#: The query parameter naming the run on screen (``/fairness?run=transformer``).
RUN_PARAM = "run"


def draw(refs: list[RunRef], problems: list[str]) -> None:
    """The run selector, where it lives, and the HTML report and zip of the run on screen."""
    with st.sidebar:
        st.markdown("### deepaudit")
        for problem in problems:
            st.warning(md_escape(problem))
        if not refs:
            st.info("No audits loaded: run one (Run) or upload one (Open).")
            return
        state.apply_pending_selection(refs)
        labels = [r.label for r in refs]
        if state.CURRENT_KEY not in st.session_state:  # a new session: ?run=LABEL picks it
            st.session_state[state.CURRENT_KEY] = st.query_params.get(RUN_PARAM)
        if st.session_state.get(state.CURRENT_KEY) not in labels:
            st.session_state[state.CURRENT_KEY] = labels[0]
        st.selectbox("Run on screen", labels, key=state.CURRENT_KEY)
        ref = state.current(refs)
        st.query_params[RUN_PARAM] = ref.label  # the address names what is on screen
        st.caption(md_escape(str(ref.path)))
        try:
            bundle = state.load(ref)
        except DeepAuditError as exc:
            st.error(md_escape(exc))
            return
        if state.reports_available():
            st.download_button(
                "Download the HTML report",
                data=lambda: state.report_html(ref, bundle),  # rendered when clicked
                file_name=f"{ref.path.name}-report.html",
                mime="text/html",
                key="download-report",
                on_click="ignore",
                help="The self-contained report of the run on screen: the same views, "
                "the same numbers.",
            )
        else:
            st.caption("The HTML report is not part of this version of deepaudit.")
        st.download_button(
            "Download the run (zip)",
            data=state.run_zip(ref),
            file_name=f"{ref.path.name}.zip",
            mime="application/zip",
            key="download-run",
            on_click="ignore",
        )
