"""Fairness: for whom the model fails.

Choose the attributes (a grouping, intersections included) and a metric; move the decision
threshold and the group metrics are recomputed live by the fairness audit's own function
(:func:`deepaudit.audit.fairness.group_metrics`, or ``anomaly_group_metrics`` for an
autoencoder) on the scores, labels and group codes the audit saved. Below, the audit's
own tables and figures (intervals, disparity tests, mitigation before and after) come
from the report's fairness view, filtered to the chosen attributes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from deepaudit.audit.fairness import (
    OVERALL,
    anomaly_group_metrics,
    disparities,
    group_metrics,
    groupings,
    live_inputs,
    live_tests,
)
from deepaudit.audit.fairness.metrics import ANOMALY_METRICS, TOP_LABEL, TOP_LABEL_METRICS
from deepaudit.audit.fairness.registry import list_metrics
from deepaudit.dashboard import state
from deepaudit.dashboard.page import family_on_screen, widget_key
from deepaudit.dashboard.render import (
    inert_once,
    md_escape,
    render_item,
    render_section,
    show_figure,
    show_frame,
)
from deepaudit.intersections import split_parts
from deepaudit.reports.views import Section, TableView, escape
from deepaudit.results import AuditBundle, FamilyResult

GROUPING_KEY = "fairness.grouping"
METRIC_KEY = "fairness.metric"
THRESHOLD_KEY = "fairness.threshold"
CLASS_KEY = "fairness.class"

#: Views about mitigation, shown together as "before and after".
MITIGATION_WORDS = ("mitigation", "tradeoff")


def live_metrics(
    result: FamilyResult, grouping: str, threshold: float
) -> tuple[pd.DataFrame, list[str]]:
    """The group metrics at ``threshold``, from the audit's own function on its saved
    inputs, and the warnings it raised (small groups)."""
    inputs = live_inputs(result, grouping, threshold=threshold)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function = anomaly_group_metrics if "errors" in inputs else group_metrics
        frame = function(**inputs)
    return frame, [str(w.message) for w in caught]


def _sampled_from(result: FamilyResult) -> str:
    """Words saying the slider's rows are a sample, when the audit covered more rows."""
    saved, total = result.metrics.get("live_rows"), result.metrics.get("n_samples")
    if saved is None or total is None or saved >= total:
        return ""
    return (
        f": a seeded random sample of the {int(total):,} rows its tables cover (move the "
        "slider to explore; the audit's own tables are exact)"
    )


def threshold_range(result: FamilyResult) -> tuple[float, float, float, float]:
    """(low, high, step, the audit's value) of the threshold slider."""
    if "errors" in result.arrays:
        errors = np.asarray(result.arrays["errors"], dtype=np.float64)
        low, high = float(errors.min()), float(errors.max())
        value = float(result.metrics.get("anomaly_threshold", np.quantile(errors, 0.95)))
        step = max((high - low) / 200, 1e-9)
        return low, max(high, low + step), step, float(np.clip(value, low, high))
    value = result.metrics.get("threshold")
    return 0.0, 1.0, 0.01, 0.5 if value is None else float(value)


def intersection_figure(
    frame: pd.DataFrame, metric: str, grouping: str, min_size: int = 0
) -> go.Figure | None:
    """A heat map of ``metric`` over the two attributes of an intersectional grouping;
    each cell shows its value and its count, and cells under ``min_size`` samples are
    greyed (too small for a verdict)."""
    attributes = split_parts(grouping)
    if len(attributes) != 2:
        return None
    rows = frame[frame["group"] != OVERALL]
    if "class" in rows and rows["class"].nunique() > 1:
        rows = rows[rows["class"] == rows["class"].iloc[0]]
    parts = [split_parts(str(label)) for label in rows["group"]]
    if not parts or any(len(p) != 2 for p in parts):
        return None
    cells = pd.DataFrame(
        {
            "a": [p[0] for p in parts],
            "b": [p[1] for p in parts],
            "v": rows[metric].astype(float).to_numpy(),
            "n": rows["count"].to_numpy(),
        }
    )
    values = cells.pivot_table(index="a", columns="b", values="v", aggfunc="first", dropna=False)
    counts = cells.pivot_table(index="a", columns="b", values="n", aggfunc="first", dropna=False)
    counts = counts.reindex(index=values.index, columns=values.columns)
    small = counts.fillna(0).to_numpy() < min_size
    z = np.where(small, np.nan, values.to_numpy())  # greyed: the plot's background shows
    text = [
        [
            "—"
            if np.isnan(n)
            else (f"n={int(n)} (too few)" if n < min_size else f"{v:.3f}<br>n={int(n)}")
            for v, n in zip(value_row, count_row, strict=True)
        ]
        for value_row, count_row in zip(values.to_numpy(), counts.to_numpy(), strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[escape(c) for c in values.columns],
            y=[escape(i) for i in values.index],
            text=text,
            texttemplate="%{text}",
            textfont={"size": 12},
            colorscale="RdBu_r",
            colorbar={"title": escape(metric)},
            hovertemplate="%{y} & %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis_title=escape(attributes[1]),
        yaxis_title=escape(attributes[0]),
        plot_bgcolor="#d9dce1",
        height=360,
        margin={"t": 30},
    )
    return figure


def metric_figure(frame: pd.DataFrame, metric: str) -> go.Figure:
    """Bars of ``metric`` per group, the overall value as a dashed line."""
    rows = frame[frame["group"] != OVERALL]
    overall = frame[frame["group"] == OVERALL]
    label = rows["group"].astype(str)
    if "class" in rows and rows["class"].nunique() > 1:
        label = rows["class"].astype(str) + " · " + label
    figure = go.Figure(go.Bar(x=[escape(v) for v in label], y=rows[metric], name=metric))
    for value in overall[metric].astype(float):
        if np.isfinite(value):
            figure.add_hline(y=value, line_dash="dash", annotation_text=OVERALL)
    figure.update_layout(yaxis_title=metric, height=320, margin={"t": 30})
    return figure


def filter_to_grouping(section: Section, grouping: str) -> Section:
    """The section with every table holding a ``grouping`` column cut to ``grouping``."""
    items = []
    for item in section.items:
        if isinstance(item, TableView) and "grouping" in item.frame.columns:
            frame = item.frame[item.frame["grouping"] == grouping]
            item = TableView(item.key, item.title, frame, item.caption)
        items.append(item)
    return Section(
        section.family, section.title, items, section.findings, section.cost, section.notes
    )


@st.cache_data(show_spinner=False, max_entries=64)
def cached_tests(
    run: str, grouping: str, threshold: float | None, options: dict, sample_seed: int, _result
) -> pd.DataFrame:
    """:func:`live_tests` as a table, cached per run, grouping and threshold (a slider
    step back to a value seen is instant)."""
    rows = live_tests(_result, grouping, threshold, options, sample_seed)
    columns = ["check", "class", "statistic", "value", "low", "high", "threshold", "severity"]
    frame = pd.DataFrame(rows)
    return frame[[c for c in columns if c in frame.columns]] if len(frame) else frame


def _live_panel(
    bundle: AuditBundle,
    result: FamilyResult,
    grouping: str,
    metric: str,
    min_size: int = 0,
    tests: tuple[str, dict, int] | None = None,
) -> None:
    low, high, step, audited = threshold_range(result)
    autoencoder = "errors" in result.arrays
    multiclass = not autoencoder and np.ndim(result.arrays.get("scores")) == 2
    own_decision = multiclass and result.metrics.get("threshold") is None
    if own_decision:
        own_decision = not st.toggle(
            "Decide one-vs-rest by a threshold instead of the predicted class",
            key=widget_key(f"{THRESHOLD_KEY}.on"),
        )
    threshold = st.slider(
        "Anomaly threshold (reconstruction error)" if autoencoder else "Decision threshold",
        min_value=low,
        max_value=high,
        value=audited,
        step=step,
        key=widget_key(THRESHOLD_KEY),
        disabled=own_decision,
        help="It starts at the audit's value. Moving it recomputes every group metric with "
        "the fairness audit's own function.",
    )
    decided = None if own_decision else float(threshold)
    frame, notes = state.view(  # every session moving to this threshold shares the result
        bundle,
        "fairness.live",
        (grouping, decided),
        lambda: live_metrics(result, grouping, decided),
    )
    function = "anomaly_group_metrics" if autoencoder else "group_metrics"
    rule = "the predicted class" if own_decision else f"threshold {threshold:.4g}"
    st.caption(
        f"Recomputed with {rule} (the audit used {'the predicted class' if multiclass and result.metrics.get('threshold') is None else f'{audited:.4g}'}) "
        f"by {function} on the {int(frame.loc[frame['group'] == OVERALL, 'count'].iloc[0]):,} "
        "samples the audit saved" + _sampled_from(result) + "."
    )
    shown, chosen = frame, None
    if "class" in frame.columns and frame["class"].nunique() > 1:
        classes = list(dict.fromkeys(frame["class"].astype(str)))
        if metric not in TOP_LABEL_METRICS:  # the predicted-class slice defines no rates
            classes = [c for c in classes if c != TOP_LABEL]
        default = classes.index(TOP_LABEL) if TOP_LABEL in classes else 0
        chosen = st.selectbox(
            "Class (one-vs-rest; the top label is the predicted class)",
            classes,
            index=default,
            key=widget_key(CLASS_KEY),
        )
        shown = frame[frame["class"].astype(str) == chosen]
    overall = shown[shown["group"] == OVERALL]
    groups = shown[shown["group"] != OVERALL]
    overall_value = float(overall[metric].iloc[0]) if len(overall) else float("nan")
    groups = groups.sort_values("count", ascending=False, kind="stable")  # largest first
    cols = st.columns(min(4, len(groups) + 1))
    cols[0].metric(f"{OVERALL} (n={int(overall['count'].iloc[0]):,})", _fmt(overall_value))
    for i, (_, row) in enumerate(groups.head(7).iterrows(), start=1):
        value = float(row[metric])
        delta = None if np.isnan(value) or np.isnan(overall_value) else value - overall_value
        cols[i % len(cols)].metric(
            md_escape(f"{row['group']} (n={int(row['count']):,})"),
            _fmt(value),
            None if delta is None else f"{delta:+.3f} vs overall",
            delta_color="off",
        )
    if len(groups) > 7:
        st.caption(f"The 7 largest of {len(groups)} groups; every group is in the table below.")
    for note in notes:
        st.caption(md_escape(note))
    choices = (grouping, decided, metric, chosen)
    bars = state.view(
        bundle, "fairness.bars", choices, lambda: inert_once(metric_figure(shown, metric))
    )
    show_figure(bars, key="fairness-live-bars")
    heat = state.view(
        bundle,
        "fairness.heat",
        (*choices, min_size),
        lambda: inert_once(intersection_figure(shown, metric, grouping, min_size)),
    )
    if heat is not None:
        st.markdown("**Intersectional heat map**")
        show_figure(heat, key="fairness-live-heat")
    else:
        st.caption("Choose a combination of attributes (a & b) for the intersectional heat map.")
    st.markdown("**Every group at this threshold**")
    show_frame(frame, key="fairness-live-table")
    if not autoencoder:
        st.markdown("**Disparities at this threshold**")
        gaps = state.view(
            bundle, "fairness.disparities", (grouping, decided), lambda: disparities(frame)
        )
        show_frame(gaps, key="fairness-live-disparities")
    if not autoencoder and tests is not None and not own_decision:
        run, options, sample_seed = tests
        st.markdown("**Disparity tests at this threshold: intervals and verdicts recomputed**")
        table = cached_tests(run, grouping, float(threshold), options, sample_seed, result)
        show_frame(table, key="fairness-live-tests")
        st.caption(
            "The audit's own tests at the new threshold: the same bootstrap resamples, "
            "intervals simultaneous over every grouping, and the one grading rule."
        )


def _fmt(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.3f}"


def render() -> None:
    ref, bundle, result, section = family_on_screen("fairness", "Fairness")
    options = dict((bundle.config.get("options") or {}).get("fairness") or {})
    min_size = int(options.get("min_group_size") or 0)
    sample_seed = bundle.config.get("sample_seed")
    sample_seed = int(bundle.config.get("seed") or 0) if sample_seed is None else int(sample_seed)
    tests = (f"{ref.label}|{bundle.provenance.get('created_at')}", options, sample_seed)
    names = groupings(result)
    if names:
        left, right = st.columns(2)
        grouping = left.selectbox(
            "Attributes (a combination is an intersectional group)",
            names,
            key=widget_key(GROUPING_KEY),
        )
        metrics = ANOMALY_METRICS if "errors" in result.arrays else list_metrics()
        metric = right.selectbox("Metric", list(metrics), key=widget_key(METRIC_KEY))
        st.subheader("Move the threshold")
        _live_panel(bundle, result, grouping, metric, min_size, tests)
        section = filter_to_grouping(section, grouping)
    mitigation = [i for i in section.items if any(w in i.key for w in MITIGATION_WORDS)]
    st.subheader("As audited")
    render_section(section, prefix="fairness", skip=[i.key for i in mitigation])
    if mitigation:
        st.subheader("Mitigation: before and after")
        for item in mitigation:
            render_item(item, prefix="fairness", family="fairness")


if __name__ == "__main__":
    render()
