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


def findings_side_by_side(left: AuditBundle, right: AuditBundle) -> pd.DataFrame:
    """Every finding of either run by its stable id: both severities, both values, and
    right minus left with its sign and an interval (each side's interval half-width
    combined as independent normal errors: sqrt(a² + b²)); changed severities first."""
    import math

    def by_id(bundle: AuditBundle) -> dict:
        return {f.id: f for f in bundle.findings}

    a, b = by_id(left), by_id(right)
    rows = []
    for key in list(dict.fromkeys([*a, *b])):
        fa, fb = a.get(key), b.get(key)
        va = fa.evidence.value if fa is not None else None
        vb = fb.evidence.value if fb is not None else None
        difference = ""
        if isinstance(va, int | float) and isinstance(vb, int | float):
            d = float(vb) - float(va)
            widths = [
                (f.evidence.interval[1] - f.evidence.interval[0]) / 2
                for f in (fa, fb)
                if f.evidence.interval is not None
            ]
            difference = f"{d:+.3g}"
            if len(widths) == 2 and all(math.isfinite(w) for w in widths):
                half = math.hypot(*widths)
                difference += f" [{d - half:+.3g}, {d + half:+.3g}]"
        rows.append(
            {
                "finding": key,
                "left": fa.severity if fa is not None else "—",
                "right": fb.severity if fb is not None else "—",
                "left value": va,
                "right value": vb,
                "right − left": difference,
                "changed": (fa.severity if fa else None) != (fb.severity if fb else None),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("changed", ascending=False, kind="stable").reset_index(drop=True)


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
    st.markdown("**Each finding, left and right** (changed severities first)")
    show_frame(findings_side_by_side(bundles[left], bundles[right]), key="compare-findings")
    st.caption(
        "right − left with its sign; the interval combines the two runs' intervals as "
        "independent errors (their half-widths added in quadrature)."
    )
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
            render_section(state.section(bundle, family), prefix=prefix)
            show_frame(cost_table(bundle), key=f"{prefix}-cost")


if __name__ == "__main__":
    render()
