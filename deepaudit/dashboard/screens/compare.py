"""Compare: two runs side by side (before and after mitigation, two model versions).

Both sides are drawn from the same views; the table of metrics puts each family's numbers
of the two runs next to each other, with their difference.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.grid import grid_frame
from deepaudit.dashboard.render import md_escape, render_section, show_frame
from deepaudit.reports.views import cost_table, metrics_frame
from deepaudit.results import AuditBundle

LEFT_KEY = "compare.left"
RIGHT_KEY = "compare.right"
FAMILY_KEY = "compare.family"


def metrics_side_by_side(
    left: AuditBundle, right: AuditBundle, family: str, names: tuple[str, str]
) -> pd.DataFrame:
    """The family's scalar metrics of both runs (from the view's own metrics table), and
    right minus left where both are numbers."""
    frames = []
    for bundle, name in zip((left, right), names, strict=True):
        if family in bundle.families:
            frame = metrics_frame(bundle.families[family]).set_index("metric")["value"]
        else:
            frame = pd.Series(dtype=object)
        frames.append(frame.rename(name))
    table = pd.concat(frames, axis=1)
    a = pd.to_numeric(table[names[0]], errors="coerce")
    b = pd.to_numeric(table[names[1]], errors="coerce")
    table["difference"] = b - a
    return table.reset_index(names="metric")


def render() -> None:
    st.title("Compare two runs")
    refs, _ = state.run_refs()
    bundles, errors = state.load_all(refs)
    for label, error in errors.items():
        st.error(f"{md_escape(label)}: {md_escape(error)}")
    labels = list(bundles)
    if len(labels) < 2:
        st.info("Comparing needs two runs: start another on the Run page or upload one on Open.")
        return
    cols = st.columns(2)
    left = cols[0].selectbox("Left", labels, index=0, key=LEFT_KEY)
    right = cols[1].selectbox("Right", labels, index=1, key=RIGHT_KEY)
    if left == right:
        st.warning("Choose two different runs.")
        return
    pair = {left: bundles[left], right: bundles[right]}
    st.subheader("Findings")
    show_frame(grid_frame(pair).T.reset_index(names="family"), key="compare-grid")
    families = list(bundles[left].families)
    families += [f for f in bundles[right].families if f not in families]
    family = st.selectbox("Family", families, key=FAMILY_KEY)
    label_left, label_right = f"{left} (left)", f"{right} (right)"
    st.subheader("Metrics")
    show_frame(
        metrics_side_by_side(bundles[left], bundles[right], family, (label_left, label_right)),
        key="compare-metrics",
    )
    sides = st.columns(2)
    for side, label, prefix in ((sides[0], left, "left"), (sides[1], right, "right")):
        with side:
            st.markdown(f"### {md_escape(label)}")
            bundle = bundles[label]
            if family not in bundle.families:
                st.info(f"No {md_escape(family)} results in this run.")
                continue
            ref = next(r for r in refs if r.label == label)
            render_section(state.section(ref, bundle, family), prefix=prefix)
            show_frame(cost_table(bundle), key=f"{prefix}-cost")


if __name__ == "__main__":
    render()
