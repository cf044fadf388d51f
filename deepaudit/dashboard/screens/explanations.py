"""Explanations: why the model decided, sample by sample, method beside method.

Choose one of the samples the explain audit explained and the attribution methods to see:
each method's attribution (a heat map over the image, the tokens coloured, or the feature
bars) beside the prediction, with that method's faithfulness and stability from the
audit's quality table. The attributions are the arrays the audit saved; below, the
report's explain view compares the methods over all samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.page import family_on_screen, widget_key
from deepaudit.dashboard.render import (
    inert_once,
    md_escape,
    render_section,
    show_figure,
    show_frame,
)
from deepaudit.reports.views import escape
from deepaudit.reports.views.explain import image_maps, quality_frame, token_items
from deepaudit.results import AuditBundle, FamilyResult

SAMPLE_KEY = "explain.sample"
METHODS_KEY = "explain.methods"
ATTRIBUTIONS = "attributions_"

#: Quality columns shown under each method (when the audit measured them).
QUALITY_SHOWN = (
    ("faithfulness", "faithfulness", "insertion AUC - deletion AUC: higher is better"),
    ("stability", "stability", "rank agreement under small input noise: higher is better"),
    ("sanity", "sanity", "does the attribution change when the model's weights are randomised?"),
)


def methods(result: FamilyResult) -> list[str]:
    """The methods whose per-sample attributions the audit saved, in the audit's order."""
    return [k[len(ATTRIBUTIONS) :] for k in result.arrays if k.startswith(ATTRIBUTIONS)]


def method_labels(result: FamilyResult) -> dict[str, str]:
    """Each method's display name (from the quality table), else its key."""
    labels = {r["method"]: r.get("label") or r["method"] for r in result.tables.get("quality", [])}
    return {m: str(labels.get(m, m)) for m in methods(result)}


def sample_labels(result: FamilyResult) -> list[str]:
    """One line per explained sample: its position, data index, explained output and label."""
    rows = result.tables.get("samples") or []
    if not rows:
        n = len(result.arrays.get("sample_indices", []))
        return [f"sample {i}" for i in range(n)]
    out = []
    for row in rows:
        text = f"#{row['sample']} (data row {row['index']}): explains {row.get('explained_output')}"
        if row.get("label") is not None:
            text += f", label {row['label']}"
        out.append(text)
    return out


def prediction_frame(bundle: AuditBundle, result: FamilyResult, i: int) -> pd.DataFrame | None:
    """The model's class probabilities for explained sample ``i`` (the overview audit's saved
    predictions of the same audited samples), highest first."""
    overview = bundle.families.get("overview")
    index = result.arrays.get("sample_indices")
    if overview is None or index is None or "proba" not in overview.arrays:
        return None
    proba = np.asarray(overview.arrays["proba"])
    row = int(index[i])
    if row >= len(proba):
        return None
    names = bundle.target.get("class_names") or [str(c) for c in range(proba.shape[1])]
    frame = pd.DataFrame({"class": [str(n) for n in names], "probability": proba[row]})
    return frame.sort_values("probability", ascending=False, kind="stable").head(5)


#: Arrays holding one entry per explained sample (cut to the chosen sample).
PER_SAMPLE = ("sample_indices", "classes", "inputs", "tokens", "feature_values")


def one_sample(result: FamilyResult, i: int) -> FamilyResult:
    """The explain result cut to explained sample ``i``, for the view's own drawing
    functions (the report's maps and token figures, for just this sample)."""
    arrays = {
        k: (v[i : i + 1] if k in PER_SAMPLE or k.startswith(ATTRIBUTIONS) else v)
        for k, v in result.arrays.items()
    }
    samples = result.tables.get("samples") or []
    return FamilyResult(
        result.family,
        metrics=result.metrics,
        tables={"samples": samples[i : i + 1], "quality": result.tables.get("quality", [])},
        arrays=arrays,
    )


def feature_bars(result: FamilyResult, method: str, i: int, top: int = 15) -> go.Figure:
    """A tabular sample's attributions by ``method``: one bar per feature (with its value),
    the largest in magnitude first; red raises the explained output, blue lowers it."""
    values = np.asarray(result.arrays[ATTRIBUTIONS + method][i], dtype=np.float64)
    names = [str(n) for n in result.arrays["feature_names"]]
    shown = result.arrays.get("feature_values")
    labels = [
        escape(f"{n} = {shown[i][j]}" if shown is not None else n) for j, n in enumerate(names)
    ]
    order = np.argsort(-np.abs(np.nan_to_num(values)), kind="stable")[:top][::-1]
    figure = go.Figure(
        go.Bar(
            x=values[order],
            y=[labels[j] for j in order],
            orientation="h",
            marker_color=["#c0392b" if v > 0 else "#2c7fb8" for v in values[order]],
            hovertemplate="%{y}: %{x:.4g}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(200, 26 * len(order) + 60),
        margin={"l": 0, "r": 10, "t": 10, "b": 10},
        xaxis_title="attribution",
    )
    return figure


def attribution_views(
    bundle: AuditBundle, result: FamilyResult, i: int, chosen: list[str], labels: dict
) -> list[tuple[str, go.Figure]]:
    """(title, figure) of the chosen methods' attributions of sample ``i``: the explain
    view's maps (images, one figure with the methods side by side) or token figures (text,
    one per method), else feature bars (tabular, one per method)."""
    sliced = one_sample(result, i)
    if "tokens" in result.arrays:
        return [
            (item.title, item.figure)
            for item in token_items(sliced, chosen, labels)
            if item.key.startswith("tokens-")
        ]
    if "feature_names" in result.arrays:
        return [(labels[m], feature_bars(result, m, i)) for m in chosen]
    inputs = result.arrays.get("inputs")
    if inputs is not None and np.ndim(inputs) == 4:
        maps = image_maps(bundle, sliced, chosen, labels)
        maps.figure.update_layout(height=320)
        return [(maps.title, maps.figure)]
    return []


def shared_attribution_views(
    bundle: AuditBundle, result: FamilyResult, i: int, chosen: list[str], labels
) -> list[tuple[str, go.Figure]]:
    """:func:`attribution_views` with inert figures, built once per process for each sample
    and choice of methods (every session shares them)."""
    if not chosen:
        return []
    return state.view(
        bundle,
        "explain.attributions",
        (i, tuple(chosen)),
        lambda: [
            (t, inert_once(f)) for t, f in attribution_views(bundle, result, i, chosen, labels)
        ],
    )


def input_view(result: FamilyResult, i: int) -> None:
    """The explained text or feature values (an image is the first panel of its maps)."""
    if "tokens" in result.arrays:
        st.text(" ".join(str(t) for t in result.arrays["tokens"][i] if str(t)))
    elif "feature_names" in result.arrays and "feature_values" in result.arrays:
        frame = pd.DataFrame(
            {
                "feature": [str(n) for n in result.arrays["feature_names"]],
                "value": [str(v) for v in result.arrays["feature_values"][i]],
            }
        )
        show_frame(frame, key="explain-input")


def render() -> None:
    _ref, bundle, result, section = family_on_screen("explain", "Explanations")
    names = methods(result)
    if not names:
        st.info("The explain audit saved no per-sample attributions for this run.")
        render_section(section, prefix="explain")
        return
    labels = method_labels(result)
    options = sample_labels(result)
    left, right = st.columns([1, 1])
    chosen_sample = left.selectbox(
        "Sample", range(len(options)), format_func=options.__getitem__, key=widget_key(SAMPLE_KEY)
    )
    chosen = right.multiselect(
        "Methods (side by side)",
        names,
        default=names[: min(3, len(names))],
        format_func=labels.__getitem__,
        key=widget_key(METHODS_KEY),
    )
    i = int(chosen_sample)
    if not chosen:
        st.info("Choose at least one method.")
    prediction, maps = st.columns([1, 3])
    with prediction:
        st.markdown("**The sample**")
        input_view(result, i)
        frame = prediction_frame(bundle, result, i)
        if frame is not None:
            st.markdown("**Prediction**")
            show_frame(frame, key="explain-prediction")
    views = shared_attribution_views(bundle, result, i, chosen, labels)
    with maps:
        side_by_side = "feature_names" in result.arrays and len(views) > 1  # feature bars
        columns = st.columns(len(views)) if side_by_side else [maps]
        for n, (title, figure) in enumerate(views):
            with columns[n % len(columns)]:
                st.markdown(f"**{md_escape(title)}**")
                show_figure(figure, key=f"explain-attribution-{n}")
    quality = {r["method"]: r for r in result.tables.get("quality", [])}
    if chosen and quality:
        cards = st.columns(len(chosen))
        for card, method in zip(cards, chosen, strict=True):
            row = quality.get(method, {})
            with card:
                st.markdown(f"**{md_escape(labels[method])}**")
                for field, title, help_text in QUALITY_SHOWN:
                    value = row.get(field)
                    if value is None or (isinstance(value, float) and np.isnan(value)):
                        continue
                    shown = f"{value:.3f}" if isinstance(value, int | float) else str(value)
                    st.metric(title, shown, help=help_text)
        rows = [quality[m] for m in chosen if m in quality]
        show_frame(quality_frame(rows), key="explain-quality")
    st.subheader("All samples, all methods")
    render_section(section, prefix="explain")


if __name__ == "__main__":
    render()
