"""Model: what was audited (the model card facts), how good it is (the overview family),
what the audit cost, and every family that has no page of its own."""

from __future__ import annotations

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.navigation import has_own_page
from deepaudit.dashboard.page import on_screen
from deepaudit.dashboard.render import md_escape, render_findings, render_section, show_frame
from deepaudit.reports.views import cost_table, provenance_frame


def render() -> None:
    ref, bundle = on_screen()
    target = bundle.target
    st.title(f"Model: {md_escape(target.get('name') or ref.label)}")
    st.caption(
        f"{md_escape(target.get('kind'))} · {md_escape(target.get('modality'))} · "
        f"{md_escape(target.get('model_class'))} · {int(target.get('n_samples') or 0):,} samples "
        f"audited · run {md_escape(ref.path)}"
    )
    if bundle.incomplete_text is not None:
        st.warning(md_escape(bundle.incomplete_text))
    if bundle.findings:
        st.subheader("Findings")
        render_findings(bundle.findings)
    for family in bundle.families:
        if has_own_page(family):
            continue
        section = state.section(bundle, family)
        st.header(md_escape(section.title))
        render_section(section, prefix="model", findings=False)
    st.header("Cost")
    show_frame(cost_table(bundle), key="model-cost")
    with st.expander("Provenance: versions, seed, device, content hashes"):
        show_frame(provenance_frame(bundle), key="model-provenance")


if __name__ == "__main__":
    render()
