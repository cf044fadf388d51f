"""Findings: every audited model on one grid of pass / warn / fail; each cell opens its
evidence (the findings, their numbers, and the view that holds the full evidence)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from deepaudit.dashboard import state
from deepaudit.dashboard.grid import Cell, column_names, findings_grid
from deepaudit.dashboard.navigation import page_target
from deepaudit.dashboard.render import (
    SEVERITY_ICON,
    md_escape,
    render_item,
    severity_badge,
    severity_label,
    show_frame,
)
from deepaudit.reports.views import findings_frame
from deepaudit.results import AuditBundle, tally_text

SELECTED_KEY = "findings.selected"
BY_KEY = "findings.by"
SCROLL_KEY = "findings.scroll"
#: The anchor of the evidence heading (a fixed id: nothing from data).
EVIDENCE_ANCHOR = "cell-evidence"
# Scrolls the page (the component's parent, same origin) to the evidence heading.
_SCROLL_SCRIPT = (
    f"<script>const t = window.parent.document.getElementById('{EVIDENCE_ANCHOR}');"
    "if (t) { t.scrollIntoView({block: 'start'}); }</script>"
)


def cell_key(model: str, column: str) -> str:
    """The widget key of a grid cell's button."""
    return f"cell|{model}|{column}"


def _select(model: str, column: str) -> None:
    st.session_state[SELECTED_KEY] = (model, column)
    st.session_state[state.CURRENT_KEY] = model
    st.session_state[SCROLL_KEY] = True


def _cell_button(cell: Cell, container) -> None:
    container.button(
        severity_label(cell.severity, cell.count),
        key=cell_key(cell.model, cell.column),
        icon=SEVERITY_ICON[cell.severity],
        type="primary" if cell.severity == "fail" else "secondary",
        disabled=cell.severity is None,
        on_click=_select,
        args=(cell.model, cell.column),
        width="stretch",
        help=f"{md_escape(cell.model)} · {md_escape(cell.column)}",  # a tooltip is Markdown
    )


def draw_grid(bundles: dict[str, AuditBundle], by: str) -> None:
    """Families: one row per model. Checks (many more): one row per check."""
    rows = findings_grid(bundles, by)
    columns = column_names(bundles, by)
    models = list(bundles)
    if by == "family":
        header = st.columns([1.3] + [1] * len(columns))
        header[0].markdown("**model**")
        for col, name in zip(header[1:], columns, strict=True):
            col.markdown(f"**{md_escape(name)}**")
        for model, row in zip(models, rows, strict=True):
            cols = st.columns([1.3] + [1] * len(columns))
            cols[0].markdown(md_escape(model))
            for col, cell in zip(cols[1:], row, strict=True):
                _cell_button(cell, col)
        return
    header = st.columns([2] + [1] * len(models))
    header[0].markdown("**check**")
    for col, model in zip(header[1:], models, strict=True):
        col.markdown(f"**{md_escape(model)}**")
    for j, column in enumerate(columns):
        cols = st.columns([2] + [1] * len(models))
        cols[0].markdown(md_escape(column))
        for i, col in enumerate(cols[1:]):
            _cell_button(rows[i][j], col)


def draw_evidence(bundles: dict[str, AuditBundle], model: str, column: str) -> None:
    """The findings of one cell, their evidence rows, and each evidence view once."""
    bundle = bundles[model]
    family, _, check = column.partition("/")
    st.subheader(f"{md_escape(model)} · {md_escape(column)}", anchor=EVIDENCE_ANCHOR)
    found = [f for f in bundle.families[family].findings if not check or f.check == check]
    if not found:
        st.success(f"The {md_escape(family)} audit ran on {md_escape(model)} with no finding.")
    frame = findings_frame(bundle)
    frame = frame[(frame["family"] == family) & ((frame["check"] == check) if check else True)]
    if len(frame):
        show_frame(frame.drop(columns=["family"]), key=f"evidence-{model}-{column}")
    section = state.section(bundle, family)
    shown: set[str] = set()
    for finding in found:
        key = finding.evidence.view
        if key is None or key in shown:
            continue
        shown.add(key)
        try:
            item = section.item(key)
        except KeyError:
            st.caption(f"(The evidence view {md_escape(key)} is not in the {family} section.)")
            continue
        render_item(item, prefix="evidence", family=family)
    link = page_target(family)
    if link is not None:
        label = f"Open the {md_escape(family)} page for {md_escape(model)}"  # Markdown too
        st.page_link(link, label=label, icon="➡️")


def draw_issues(bundles: dict[str, AuditBundle]) -> None:
    """Each audit's issues (findings grouped by what they concern), fail first; the
    passing ones folded into one line."""
    for model, bundle in bundles.items():
        issues = bundle.issues
        open_issues = [i for i in issues if i.severity != "pass"]
        passing = len(issues) - len(open_issues)
        st.markdown(
            f"**{md_escape(model)}**: {len(open_issues)} issues "
            f"({passing} more pass) · worst {severity_badge(bundle.worst_severity)}"
        )
        by_id = {f.id: f for f in bundle.findings}
        for issue in open_issues:
            with st.expander(
                f"{md_escape(issue.title)} · {tally_text(issue.counts)}",
                icon=SEVERITY_ICON[issue.severity],
                expanded=False,
            ):
                st.markdown(md_escape(issue.next_step))
                for finding_id in issue.findings:
                    finding = by_id.get(finding_id)
                    if finding is not None:
                        st.markdown(
                            f"{severity_badge(finding.severity)} {md_escape(finding.message)}"
                        )


def render() -> None:
    st.title("Findings")
    refs, _ = state.run_refs()
    bundles, errors = state.load_all(refs)
    for label, error in errors.items():
        st.error(f"{md_escape(label)}: {md_escape(error)}")
    if not bundles:
        st.info("No audits to show yet: start one on the Run page or upload one on the Open page.")
        return
    for label, bundle in bundles.items():  # a run that stopped part-way is never read as whole
        if bundle.incomplete_text is not None:
            st.warning(f"{md_escape(label)}: {md_escape(bundle.incomplete_text)}")
    st.subheader("Issues")
    st.caption("Findings grouped by what they concern (an attribute, a class, a method, a check).")
    draw_issues(bundles)
    st.divider()
    st.subheader("Every check")
    by = st.radio("One column per", ["family", "check"], horizontal=True, key=BY_KEY)
    st.caption(
        "Each cell is the worst finding of that audit on that model; click one for its evidence."
    )
    draw_grid(bundles, by)
    selected = st.session_state.get(SELECTED_KEY)
    if selected and selected[0] in bundles:
        model, column = selected
        family = column.partition("/")[0]
        if family in bundles[model].families:
            st.divider()
            draw_evidence(bundles, model, column)
            if st.session_state.pop(SCROLL_KEY, False):  # a click, not any rerun
                components.html(_SCROLL_SCRIPT, height=0)
    st.divider()
    st.subheader("Every finding")
    frames = [findings_frame(b).assign(model=label) for label, b in bundles.items()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(table):
        table = table[["model", *[c for c in table.columns if c != "model"]]]
    show_frame(table, key="all-findings")


if __name__ == "__main__":
    render()
