"""The fairness family's view: for whom does the model fail, and how sure are we?

Classifiers: rates by group with their intervals, every disparity test as an interval
against its limit, the tables behind them, the counterfactual flips or identity-term
swaps, and the mitigation trade-off. Autoencoders: flag rates by group. Generators:
class shares of generated samples against the reference data. Every number is read from
the bundle (see :mod:`deepaudit.audit.fairness`); nothing is recomputed here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from deepaudit.intersections import split_parts
from deepaudit.reports.views.base import (
    FigureView,
    Section,
    TableView,
    TextView,
    View,
)
from deepaudit.reports.views.common import image_figure, image_grid, metrics_frame
from deepaudit.results import SEVERITY_RANK

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult

FAMILY = "fairness"
TOP_LABEL = "(top label)"  # the multiclass slice of deepaudit.audit.fairness (no torch here)
SEVERITY_COLOURS = {
    "fail": "#c0392b",
    "warn": "#e67e22",
    "inconclusive": "#8e44ad",
    "pass": "#27ae60",
}
MAX_FOREST_ROWS = 30
MAX_PAIR_ROWS = 20
_BINARY_RATES = ("selection_rate", "tpr", "fpr", "precision")
_RATE_TITLES = {
    "selection_rate": "Selection rate",
    "tpr": "True-positive rate",
    "fpr": "False-positive rate",
    "precision": "Precision",
    "accuracy": "Accuracy",
    "flag_rate": "Anomaly-flag rate",
}


def fairness_view(bundle: AuditBundle, result: FamilyResult) -> Section:
    """The fairness section of a report or dashboard page."""
    tables = result.tables
    items: list[View] = [TableView("metrics", "Summary metrics", metrics_frame(result))]
    if "group_metrics" in tables:
        items += _classifier_group_items(result)
    if "anomaly_groups" in tables:
        items += _anomaly_items(result)
    if "mitigation" in tables:
        items += _mitigation_items(result)
    if "counterfactual" in tables:
        items += _counterfactual_items(result)
    if "identity_pairs" in tables:
        items += _identity_items(result)
    if "class_shares" in tables:
        items += _coverage_items(result)
    if tables.get("cost"):
        items.append(
            TableView(
                "cost",
                "Cost of each part",
                pd.DataFrame(tables["cost"]),
                "Seconds and model evaluations spent by each part of the fairness audit.",
            )
        )
    for i, note in enumerate(result.notes):
        items.append(TextView(f"note-{i}", "Note", note))
    return Section(
        family=FAMILY,
        title="Fairness: for whom does the model fail?",
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )


def _interval_caption(result: FamilyResult) -> str:
    confidence = result.metrics.get("confidence", 0.95)
    n_boot = result.metrics.get("n_bootstrap", 0)
    if not n_boot:
        return "No bootstrap was run, so there are no intervals."
    return (
        f"Bars: {confidence:.0%} intervals (Wilson's for rates, from the counts; bootstrap "
        f"percentiles otherwise, {n_boot} resamples)."
    )


# -- classifiers -------------------------------------------------------------------------


def _classifier_group_items(result: FamilyResult) -> list[View]:
    groups = pd.DataFrame(result.tables["group_metrics"])
    multiclass = (groups["class"] == TOP_LABEL).any()
    rates = ("accuracy",) if multiclass else _BINARY_RATES
    shown = groups[groups["class"] == TOP_LABEL] if multiclass else groups
    items: list[View] = [
        FigureView(
            "group_rates",
            "Rates by group",
            group_rates_figure(shown, rates),
            "One row per sensitive attribute (intersections are in the table below). "
            + ("Accuracy of the predicted class. " if multiclass else "")
            + "Dashed line: the overall rate. "
            + _interval_caption(result),
        )
    ]
    tests = result.tables.get("disparity_tests") or []
    if tests:
        items.append(
            FigureView(
                "disparity_intervals",
                "Disparities against their limits",
                forest_figure(tests),
                "Each test's value with its interval (colour: severity) and its limit "
                "(black tick). A test fails when its whole interval lies beyond the limit, "
                "passes when it lies within, and is inconclusive otherwise"
                + (
                    "; the intervals of a check's tests hold together (simultaneous)"
                    if result.metrics.get("correction") == "simultaneous"
                    else ""
                )
                + f". The {MAX_FOREST_ROWS} tests nearest to failing are shown.",
            )
        )
        items.append(
            TableView(
                "disparity_tests",
                "Disparity tests",
                pd.DataFrame(tests),
                "low, high: the interval of the disparity, from simultaneous intervals of the "
                "differences (or ratios) between every two groups, so it can include 0; "
                "base_rate_gap: how much more often the group selected most is positive than "
                "the group selected least (a selection-rate gap that mirrors it says little "
                "about the decisions).",
            )
        )
    items.append(
        TableView(
            "group_metrics",
            "Metrics of every group and intersection",
            groups,
            "Groups marked small take no part in disparities. Multiclass models: one-vs-rest "
            f"per class, and {TOP_LABEL!r} for the predicted class. Recompute any row with "
            "deepaudit.audit.fairness.group_metrics on the saved scores, labels and group "
            "codes.",
        )
    )
    items.append(
        TableView(
            "disparities",
            "Disparities between groups and against the overall rate",
            pd.DataFrame(result.tables["disparities"]),
            "difference = highest - lowest rate; ratio = lowest / highest (the four-fifths rule "
            "reads the selection-rate ratio); *_to_overall compare each group with everyone.",
        )
    )
    return items


def group_rates_figure(frame: pd.DataFrame, rates: tuple[str, ...]) -> go.Figure:
    """Bars of each rate by group, one row per single-attribute grouping, with intervals."""
    singles = [g for g in dict.fromkeys(frame["grouping"]) if len(split_parts(g)) == 1]
    fig = make_subplots(
        rows=max(1, len(singles)),
        cols=len(rates),
        subplot_titles=[f"{g}: {_RATE_TITLES.get(r, r)}" for g in singles for r in rates],
        vertical_spacing=min(0.12, 0.9 / (len(singles) - 1)) if len(singles) > 1 else 0.2,
    )
    for i, grouping in enumerate(singles, start=1):
        part = frame[frame["grouping"] == grouping]
        overall = part[part["group"] == "overall"]
        bars = part[part["group"] != "overall"]
        for j, rate in enumerate(rates, start=1):
            fig.add_trace(
                go.Bar(
                    x=bars["group"].astype(str).tolist(),
                    y=bars[rate].tolist(),
                    error_y=_error_bars(bars, rate),
                    marker_color=["#bbbbbb" if s else "#2c7fb8" for s in bars["small"]],
                    name=rate,
                    showlegend=False,
                    hovertemplate="%{x}: %{y:.3f}<extra>" + rate + "</extra>",
                ),
                row=i,
                col=j,
            )
            if len(overall) and not math.isnan(float(overall[rate].iloc[0])):
                fig.add_hline(
                    y=float(overall[rate].iloc[0]),
                    line_dash="dash",
                    line_color="#555",
                    row=i,
                    col=j,
                )
    fig.update_layout(height=260 * max(1, len(singles)) + 60, margin={"t": 60, "b": 40})
    return fig


def _error_bars(frame: pd.DataFrame, column: str) -> dict | None:
    low, high = f"{column}_low", f"{column}_high"
    if low not in frame.columns:
        return None
    value = frame[column].to_numpy(dtype=float)
    return {
        "type": "data",
        "symmetric": False,
        "array": np.nan_to_num(frame[high].to_numpy(dtype=float) - value).tolist(),
        "arrayminus": np.nan_to_num(value - frame[low].to_numpy(dtype=float)).tolist(),
    }


def _excess(row: dict) -> float:
    value = row.get("value")
    if value is None or not math.isfinite(value):
        return -math.inf
    return value - row["threshold"] if row["higher_is_worse"] else row["threshold"] - value


def forest_figure(tests: list[dict]) -> go.Figure:
    """Each test's value and interval against its limit, nearest to failing first."""
    chosen = sorted(tests, key=lambda r: (SEVERITY_RANK.get(r.get("severity"), 4), -_excess(r)))
    chosen = chosen[:MAX_FOREST_ROWS][::-1]
    labels = [
        f"{r['check']} · {r['grouping']}"
        + (f" · {r['class']}" if r.get("class") and r["class"] != TOP_LABEL else "")
        for r in chosen
    ]
    fig = go.Figure()
    for severity, colour in SEVERITY_COLOURS.items():
        idx = [i for i, r in enumerate(chosen) if r.get("severity") == severity]
        if not idx:
            continue
        fig.add_trace(
            go.Scatter(
                x=[chosen[i]["value"] for i in idx],
                y=[labels[i] for i in idx],
                mode="markers",
                marker={"color": colour, "size": 9},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [_nz(chosen[i]["high"] - chosen[i]["value"]) for i in idx],
                    "arrayminus": [_nz(chosen[i]["value"] - chosen[i]["low"]) for i in idx],
                },
                name=severity,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[r["threshold"] for r in chosen],
            y=labels,
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": "black"},
            name="limit",
        )
    )
    fig.update_layout(
        height=120 + 24 * len(chosen),
        xaxis_title="disparity (difference, or ratio for the four-fifths rule)",
        yaxis={"categoryorder": "array", "categoryarray": labels},
        margin={"l": 10, "t": 30},
    )
    return fig


def _nz(x: float) -> float:
    return 0.0 if x is None or not math.isfinite(x) else float(x)


# -- mitigation --------------------------------------------------------------------------


def _mitigation_items(result: FamilyResult) -> list[View]:
    m = result.metrics
    items: list[View] = [
        TableView(
            "mitigation",
            "Before and after ThresholdOptimizer",
            pd.DataFrame(result.tables["mitigation"]),
            f"fairlearn's ThresholdOptimizer ({m.get('mitigation_constraint')}, by "
            f"{m.get('mitigation_attribute')}) on the model's scores, fitted on half the "
            "audited samples and measured on the other half.",
        )
    ]
    if result.tables.get("tradeoff"):
        items.append(
            FigureView(
                "tradeoff",
                "Accuracy against disparity",
                tradeoff_figure(result.tables["tradeoff"]),
                "Each point is a decision rule measured on the held-out half: one global "
                "threshold swept over [0, 1], and ThresholdOptimizer with its constraint "
                "relaxed step by step.",
            )
        )
    if result.tables.get("mitigation_thresholds"):
        items.append(
            TableView(
                "mitigation_thresholds",
                "Group thresholds chosen by ThresholdOptimizer",
                pd.DataFrame(result.tables["mitigation_thresholds"]),
                "Each group's decision mixes two threshold rules with probabilities p0 and p1.",
            )
        )
    return items


def tradeoff_figure(curve: list[dict]) -> go.Figure:
    frame = pd.DataFrame(curve)
    fig = go.Figure()
    for method, part in frame.groupby("method", sort=False):
        line = method in ("global threshold", "ThresholdOptimizer tol")
        fig.add_trace(
            go.Scatter(
                x=part["demographic_parity_difference"].tolist(),
                y=part["accuracy"].tolist(),
                mode="lines+markers" if line else "markers",
                marker={"size": 7 if line else 13, "symbol": "circle" if line else "star"},
                name=str(method),
                text=[f"parameter {p:.3g}" for p in part["parameter"]],
                hovertemplate="DP difference %{x:.3f}, accuracy %{y:.3f} (%{text})",
            )
        )
    fig.update_layout(
        xaxis_title="demographic parity difference",
        yaxis_title="accuracy",
        height=420,
        margin={"t": 30},
    )
    return fig


# -- counterfactual flips ------------------------------------------------------------------


def _counterfactual_items(result: FamilyResult) -> list[View]:
    rows = pd.DataFrame(result.tables["counterfactual"])
    items: list[View] = []
    if result.tables.get("counterfactual_summary"):
        items.append(
            TableView(
                "counterfactual_summary",
                "Counterfactual flips by attribute",
                pd.DataFrame(result.tables["counterfactual_summary"]),
                "Each sample's attribute set to other groups (up to the configured number of "
                "alternatives); changed_share: predictions that change.",
            )
        )
    items.append(
        FigureView(
            "counterfactual_figure",
            "Changed predictions by group",
            counterfactual_figure(rows),
            _interval_caption(result),
        )
    )
    items.append(
        TableView(
            "counterfactual",
            "Counterfactual flips by group",
            rows,
            "mean_shift: score after minus before (P(class 1), the probability of the "
            "original prediction for multiclass, reconstruction error for autoencoders)."
            + (
                " example_changes: what the flip changed in the sample it moved most (in "
                "raw columns when the model reads them through a preprocessing step)."
                if "example_changes" in rows
                else ""
            ),
        )
    )
    return items


def counterfactual_figure(rows: pd.DataFrame) -> go.Figure:
    labels = [
        f"{a}: {f} → {t}"
        for a, f, t in zip(rows["attribute"], rows["from_group"], rows["to_group"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=rows["changed_share"].tolist(),
            y=labels,
            orientation="h",
            error_x=_error_bars(rows, "changed_share"),
            marker_color="#2c7fb8",
        )
    )
    fig.update_layout(
        height=120 + 22 * len(rows),
        xaxis_title="share of changed predictions",
        xaxis_tickformat=".0%",
        margin={"l": 10, "t": 30},
    )
    return fig


# -- identity swaps ------------------------------------------------------------------------


def _identity_items(result: FamilyResult) -> list[View]:
    pairs = pd.DataFrame(result.tables["identity_pairs"])
    unknown = pairs["in_vocab"] == False if "in_vocab" in pairs else None  # noqa: E712
    known = pairs if unknown is None else pairs[~unknown]
    items: list[View] = []
    if len(known):
        items.append(
            FigureView(
                "identity_shifts",
                "Score shifts of identity-term swaps",
                identity_figure(known),
                f"The {MAX_PAIR_ROWS} term pairs that move the score most: mean shift over "
                "template sentences that differ only in the term. " + _interval_caption(result),
            )
        )
    items.append(
        TableView(
            "identity_known_pairs",
            "Identity-term pairs in template sentences",
            known.drop(columns=["in_vocab"], errors="ignore"),
            "mean_shift: score with term_b minus score with term_a; flip_rate: sentence pairs "
            "whose prediction differs. Pairs with a term the model does not know are listed "
            "apart below and take no part in the verdict.",
        )
    )
    if unknown is not None and unknown.any():
        items.append(
            TableView(
                "identity_pairs_unknown",
                "Term pairs the model cannot read (a term outside its vocabulary)",
                pairs[unknown].drop(columns=["in_vocab"]),
                "The model reads an unknown term as its unknown-word token, so these shifts "
                "measure that token, not the identity; they are not graded.",
            )
        )
    items.append(
        TableView(
            "identity_groups",
            "Mean score of each identity group in template sentences",
            pd.DataFrame(result.tables.get("identity_groups", [])),
        )
    )
    items.append(
        TableView(
            "identity_data_swaps",
            "Swaps inside the evaluation data",
            pd.DataFrame(result.tables.get("identity_data_swaps", [])),
            "Samples holding one term of a swap pair, with it swapped for the other.",
        )
    )
    return items


def identity_figure(pairs: pd.DataFrame) -> go.Figure:
    top = pairs.reindex(pairs["mean_shift"].abs().sort_values(ascending=False).index)
    top = top.head(MAX_PAIR_ROWS).iloc[::-1]
    colours = [SEVERITY_COLOURS.get(s, "#2c7fb8") for s in top.get("severity", [])] or None
    fig = go.Figure(
        go.Bar(
            x=top["mean_shift"].tolist(),
            y=[
                f"{a} → {b} ({attr})"
                for a, b, attr in zip(top["term_a"], top["term_b"], top["attribute"], strict=True)
            ],
            orientation="h",
            error_x=_error_bars(top, "mean_shift"),
            marker_color=colours,
        )
    )
    fig.update_layout(
        height=120 + 22 * len(top), xaxis_title="mean score shift", margin={"l": 10, "t": 30}
    )
    return fig


# -- autoencoders ----------------------------------------------------------------------------


def _anomaly_items(result: FamilyResult) -> list[View]:
    groups = pd.DataFrame(result.tables["anomaly_groups"])
    items: list[View] = [
        FigureView(
            "flag_rates",
            "Anomaly-flag rate and reconstruction error by group",
            group_rates_figure(groups, ("flag_rate", "mean_error")),
            "Dashed line: the overall value. " + _interval_caption(result),
        )
    ]
    tests = result.tables.get("disparity_tests") or []
    if tests:
        items.append(
            FigureView("disparity_intervals", "Flag-rate disparities", forest_figure(tests))
        )
        items.append(TableView("disparity_tests", "Flag-rate tests", pd.DataFrame(tests)))
    items.append(
        TableView(
            "anomaly_groups",
            "Flag rate and mean reconstruction error of every group",
            groups,
            "Recompute with deepaudit.audit.fairness.anomaly_group_metrics on the saved errors "
            "and group codes.",
        )
    )
    return items


# -- generators ------------------------------------------------------------------------------


def _coverage_items(result: FamilyResult) -> list[View]:
    shares = pd.DataFrame(result.tables["class_shares"])
    m = result.metrics
    items: list[View] = [
        FigureView(
            "class_share_figure",
            "Generated class shares against the reference data",
            class_share_figure(shares),
            f"Classes of {m.get('n_generated')} generated and {m.get('n_reference')} reference "
            f"samples, labelled by {m.get('label_model')!r}; chi-square {m.get('chi2', 0):.1f}, "
            f"p = {m.get('chi2_p_value', float('nan')):.2g}. " + _interval_caption(result),
        ),
        TableView("class_shares", "Class shares", shares),
    ]
    if "samples" in result.arrays and len(result.arrays["samples"]):
        samples = np.asarray(result.arrays["samples"])
        labels = np.asarray(result.arrays["generated_classes"])[: len(samples)]
        names = shares["class"].astype(str).tolist()
        items.append(
            FigureView(
                "generated_samples",
                "Generated samples",
                image_figure(image_grid(samples, n_columns=10)),
                "Labels, row by row: "
                + " ".join(names[k] if k < len(names) else str(k) for k in labels),
            )
        )
    return items


def class_share_figure(shares: pd.DataFrame) -> go.Figure:
    names = shares["class"].astype(str).tolist()
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=shares["generated_share"].tolist(),
                error_y=_error_bars(shares, "generated_share"),
                name="generated",
                marker_color=[
                    SEVERITY_COLOURS["fail"] if s == "fail" else "#2c7fb8"
                    for s in shares.get("severity", ["pass"] * len(shares))
                ],
            ),
            go.Bar(
                x=names, y=shares["reference_share"].tolist(), name="reference", marker_color="#999"
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        height=380,
        xaxis_title="class",
        margin={"t": 30},
    )
    return fig
