"""The explain family's view: attribution maps, each beside the scores that say how far to
trust it.

Images: a grid of the explained samples with one heat map per method. Text: tokens
coloured by attribution, one figure per method, and a table of each sample's top tokens.
Tabular: global importance bars (categorical features as one feature), a samples ×
features map and the share on sensitive features. Every section has the quality table
(faithfulness, sanity, completeness, stability, cost per method), the mean deletion and
insertion curves, the randomisation and agreement tables. Everything is read from the
bundle (see :mod:`deepaudit.audit.explain`); nothing is recomputed. Strings from the data
(tokens, feature names, groups) reach figures escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from deepaudit.reports.views.base import (
    FigureView,
    Section,
    TableView,
    TextView,
    View,
    escape,
)
from deepaudit.reports.views.common import png_data_uri

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult

FAMILY = "explain"
MAX_SAMPLES_SHOWN = 6
#: Attribution maps in the report are drawn at most this many cells a side (a mailed
#: report of 224-pixel maps would otherwise carry 50,176 numbers a map, twice).
MAX_MAP_SIDE = 64
MAX_TOKENS_SHOWN = 40

_QUALITY_COLUMNS = {
    "label": "method",
    "faithfulness": "faithfulness (insertion − deletion)",
    "faithfulness_gain_low": "gain over random, low",
    "faithfulness_gain_high": "gain over random, high",
    "deletion_auc": "deletion AUC ↓",
    "insertion_auc": "insertion AUC ↑",
    "infidelity": "infidelity ↓",
    "sensitivity": "max sensitivity ↓",
    "randomisation": "rank corr. with randomised model ↓",
    "randomisation_low": "rank corr., low",
    "randomisation_high": "rank corr., high",
    "sanity": "sanity",
    "completeness_gap": "completeness gap ↓",
    "steps": "IG steps",
    "stability": "stability across seeds ↑",
    "stability_low": "stability, low",
    "stability_high": "stability, high",
    "seconds": "seconds",
    "evaluations": "model evaluations",
    "check_seconds": "check seconds",
    "check_evaluations": "check evaluations",
    "note": "note",
}

_QUALITY_CAPTION = (
    "One row per method, beside its maps. Faithfulness: area under the insertion curve minus "
    "the deletion curve (features removed or restored in attribution order; the random row "
    "is chance). Infidelity: captum's, under random feature removal, after the best rescaling. "
    "Max sensitivity: captum's sensitivity-max, the largest relative change of the map within "
    "a small input ball. Sanity: rank correlation of the maps with those of a copy whose "
    "weights were all re-initialised (Adebayo et al., 2018); high means the map ignores the "
    "model; its interval (low, high) is a bootstrap over the samples, each averaged over "
    "re-initialised copies. Completeness gap: |sum of attributions − output difference| relative to the "
    "difference, or to the outputs' size when that is larger (steps: those Integrated "
    "Gradients needed). Stability: rank agreement across seeds (stochastic methods). Cost: seconds "
    "and model evaluations of the method, then of its checks."
)


def explain_view(bundle: AuditBundle, result: FamilyResult) -> Section:
    """The explain section of a report or dashboard page."""
    items: list[View] = []
    modality = bundle.target.get("modality")
    quality = result.tables.get("quality", [])
    methods = [r["method"] for r in quality if r["method"] != "random"]
    labels = {r["method"]: r["label"] for r in quality}
    if quality:
        items.append(_about(bundle, result, methods, labels))
        items.append(
            TableView(
                "quality", "How far to trust each method", quality_frame(quality), _QUALITY_CAPTION
            )
        )
        if modality == "image":
            items.append(image_maps(bundle, result, methods, labels))
        elif modality == "text":
            items += token_items(result, methods, labels)
        elif modality == "tabular":
            items += tabular_items(result, methods, labels)
        items.append(curves_figure(result, methods, labels))
    items += every_row_items(result)
    items += _tables(result)
    if "latent_sensitivity" in result.tables:
        items.append(latent_figure(result))
    for i, note in enumerate(result.notes):
        items.append(TextView(f"note-{i}", "Note", note))
    return Section(
        family=FAMILY,
        title="Explanations: why the model decides, and how far to trust each answer",
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )


def _about(bundle: AuditBundle, result: FamilyResult, methods: list[str], labels: dict) -> TextView:
    kind = bundle.target.get("kind")
    what = {
        "classifier": "the logit of the predicted class",
        "autoencoder": "the anomaly score (mean squared reconstruction error)",
        "generator": "the discriminator's logit on generated samples",
    }.get(kind, "the model's output")
    n = result.metrics.get("n_explained", len(result.arrays.get("sample_indices", [])))
    stratified = result.metrics.get("stratified_by")
    text = (
        f"{n} samples explained with {len(methods)} methods ("
        + ", ".join(labels[m] for m in methods)
        + f"); each attributes {what}."
    )
    if stratified:
        text += f" Samples were drawn balanced over '{stratified}'."
    return TextView("about", "What was explained", text)


def quality_frame(rows: list[dict]) -> pd.DataFrame:
    """The quality table with readable column names, in a fixed order."""
    frame = pd.DataFrame(rows)
    columns = [c for c in _QUALITY_COLUMNS if c in frame.columns]
    return frame[columns].rename(columns=_QUALITY_COLUMNS)


# -- images --------------------------------------------------------------------------


def _rgb(images: np.ndarray) -> np.ndarray:
    """N×C×H×W floats -> N×H×W×3 uint8, scaled over the whole batch."""
    x = np.asarray(images, dtype=np.float64)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    scaled = np.clip((x[:, :3] - lo) / max(hi - lo, 1e-12), 0, 1)
    return np.round(scaled * 255).astype(np.uint8).transpose(0, 2, 3, 1)


def image_maps(
    bundle: AuditBundle, result: FamilyResult, methods: list[str], labels: dict
) -> FigureView:
    """Rows of explained images: the input, then each method's map (channels summed; red
    raises the explained output, blue lowers it; each map on its own symmetric scale)."""
    inputs = result.arrays["inputs"][:MAX_SAMPLES_SHOWN]
    n = len(inputs)
    samples = result.tables.get("samples", [])
    titles = ["input"] + [escape(labels[m]) for m in methods]
    figure = make_subplots(
        rows=n,
        cols=1 + len(methods),
        column_titles=titles,
        row_titles=[escape(_sample_label(samples, i)) for i in range(n)],
        horizontal_spacing=0.01,
        vertical_spacing=0.01,
    )
    pixels = _rgb(inputs)
    blocks = 1
    for i in range(n):
        figure.add_trace(
            go.Image(source=png_data_uri(pixels[i]), hoverinfo="skip"), row=i + 1, col=1
        )
        for j, method in enumerate(methods):
            values = np.asarray(result.arrays[f"attributions_{method}"][i], dtype=np.float64)
            heat, blocks = block_means(values.sum(axis=0))
            centres = {
                axis: (np.arange(heat.shape[k]) * blocks + (blocks - 1) / 2).tolist()
                for k, axis in enumerate("yx")
            }
            limit = float(np.max(np.abs(heat))) or 1.0
            figure.add_trace(
                go.Heatmap(
                    z=heat / limit,
                    customdata=heat,
                    **centres,
                    zmin=-1,
                    zmax=1,
                    colorscale="RdBu_r",
                    showscale=i == 0 and j == 0,
                    colorbar={
                        "title": {"text": "share of the map's largest |attribution|"},
                        "thickness": 12,
                    },
                    hovertemplate="row %{y}, col %{x}: %{customdata:.3g}<extra></extra>",
                ),
                row=i + 1,
                col=j + 2,
            )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed")
    columns = 1 + len(methods)
    for i in range(n):
        for j in range(columns):
            index = i * columns + j + 1
            figure.update_yaxes(scaleanchor=f"x{index if index > 1 else ''}", row=i + 1, col=j + 1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        plot_bgcolor="white",
        height=max(240, 120 * n + 60),
        margin={"l": 10, "r": 60, "t": 40, "b": 10},
    )
    return FigureView(
        "maps",
        "Attribution maps",
        figure,
        "Each row an explained sample (its explained class on the right); red raises the "
        "explained output, blue lowers it. Read each map with its row of the quality table."
        + (
            f" Maps are drawn as the mean of each {blocks}×{blocks} block of pixels (at most "
            f"{MAX_MAP_SIDE} cells a side); the saved arrays hold every pixel."
            if blocks > 1
            else ""
        ),
    )


def block_means(heat: np.ndarray, side: int = MAX_MAP_SIDE) -> tuple[np.ndarray, int]:
    """A map of at most ``side`` cells a side: the mean of each f×f block of pixels, f the
    smallest that fits (a 224-pixel map: 4), and f. Smaller maps are kept as they are."""
    h, w = heat.shape
    f = max(1, -(-max(h, w) // side))
    if f == 1:
        return heat, 1
    padded = np.full((-(-h // f) * f, -(-w // f) * f), np.nan)
    padded[:h, :w] = heat  # edge blocks average the pixels they hold
    blocks = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
    return np.nanmean(blocks, axis=(1, 3)), f


def _sample_label(samples: list[dict], i: int) -> str:
    if i >= len(samples):
        return str(i)
    row = samples[i]
    text = f"#{row.get('index', i)}: {row.get('explained_output', '')}"
    if "label" in row and str(row["label"]) != str(row.get("explained_output")):
        text += f" ≠ {row['label']}"  # a misclassified sample shows its true class
    return text


# -- text ------------------------------------------------------------------------------


def token_items(result: FamilyResult, methods: list[str], labels: dict) -> list[View]:
    """One token heat map per method, and each sample's top tokens."""
    tokens = result.arrays["tokens"][:MAX_SAMPLES_SHOWN]
    samples = result.tables.get("samples", [])
    items: list[View] = []
    length = max(1, min(MAX_TOKENS_SHOWN, int(max((np.asarray(tokens) != "").sum(axis=1)))))
    shown = np.asarray(tokens)[:, :length]
    text = [[escape(t) for t in row] for row in shown]
    for method in methods:
        values = np.asarray(
            result.arrays[f"attributions_{method}"][: len(shown), :length], dtype=np.float64
        )
        scale = np.max(np.abs(values), axis=1, keepdims=True)
        normalised = np.where(scale > 0, values / np.where(scale > 0, scale, 1), 0.0)
        normalised = np.where(shown == "", np.nan, normalised)
        figure = go.Figure(
            go.Heatmap(
                z=normalised,
                text=text,
                customdata=values,
                texttemplate="%{text}",
                textfont={"size": 12},
                colorscale="RdBu_r",
                zmin=-1,
                zmax=1,
                colorbar={
                    "title": {"text": "share of the row's largest |attribution|"},
                    "thickness": 12,
                },
                hovertemplate="%{text}: %{customdata:.3g}<extra></extra>",
                xgap=2,
                ygap=2,
            )
        )
        figure.update_xaxes(visible=False)
        figure.update_yaxes(
            tickvals=list(range(len(shown))),
            ticktext=[escape(_sample_label(samples, i)) for i in range(len(shown))],
            autorange="reversed",
        )
        figure.update_layout(
            plot_bgcolor="white",
            height=80 + 48 * len(shown),
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
        )
        items.append(
            FigureView(
                f"tokens-{method}",
                f"Tokens by {labels[method]}",
                figure,
                "Each row an explained text; red tokens raise the explained output, blue ones "
                "lower it (scaled per row).",
            )
        )
    items.append(
        TableView(
            "top_tokens", "Most influential tokens", top_tokens_frame(result, methods, labels)
        )
    )
    return items


def top_tokens_frame(
    result: FamilyResult, methods: list[str], labels: dict, k: int = 5
) -> pd.DataFrame:
    """Per sample and method: the ``k`` tokens with the largest attributions."""
    rows = []
    tokens = np.asarray(result.arrays["tokens"])
    for i in range(len(tokens)):
        for method in methods:
            values = np.asarray(result.arrays[f"attributions_{method}"][i], dtype=np.float64)
            present = np.nonzero(tokens[i] != "")[0]
            order = present[np.argsort(-values[present], kind="stable")[:k]]
            rows.append(
                {
                    "sample": i,
                    "method": labels[method],
                    "top tokens": ", ".join(f"{tokens[i][p]} ({values[p]:+.3g})" for p in order),
                }
            )
    return pd.DataFrame(rows, columns=["sample", "method", "top tokens"])


# -- tabular ---------------------------------------------------------------------------


#: Features drawn in the importance chart; the rest are summed into one bar (shap's
#: ``max_display``).
MAX_FEATURES_SHOWN = 20


def top_importance(importance: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The features by mean share over the methods, largest first; beyond
    :data:`MAX_FEATURES_SHOWN`, one row "other (N features)" holding their sum."""
    order = importance[columns].mean(axis=1, skipna=True).fillna(0.0)
    ranked = importance.loc[order.sort_values(ascending=False, kind="stable").index]
    if len(ranked) <= MAX_FEATURES_SHOWN:
        return ranked.reset_index(drop=True)
    head, tail = ranked.iloc[:MAX_FEATURES_SHOWN], ranked.iloc[MAX_FEATURES_SHOWN:]
    other = {"feature": f"other ({len(tail)} features)"}
    other.update({c: tail[c].sum(min_count=1) for c in columns})
    return pd.concat([head, pd.DataFrame([other])], ignore_index=True)


def tabular_items(result: FamilyResult, methods: list[str], labels: dict) -> list[View]:
    """Global importance (bars and table) and the samples × features map."""
    items: list[View] = []
    importance = pd.DataFrame(result.tables.get("global_importance", []))
    if not importance.empty:
        columns = [c for c in importance.columns if c not in ("feature", "kind", "sensitive")]
        shown = top_importance(importance, columns)
        figure = go.Figure()
        for column in columns:
            figure.add_trace(
                go.Bar(
                    y=[escape(f) for f in shown["feature"]],
                    x=shown[column],
                    name=escape(labels.get(column, "Permutation importance")),
                    orientation="h",
                )
            )
        figure.update_layout(
            barmode="group",
            height=160 + 28 * len(shown) * max(1, len(columns)) // 2,
            xaxis_title="share of mean |attribution|",
            yaxis={"autorange": "reversed"},
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
        )
        rest = len(importance) - MAX_FEATURES_SHOWN
        items.append(
            FigureView(
                "importance",
                "Global importance per feature",
                figure,
                "Each method's share of mean absolute attribution per feature (a categorical "
                "feature counts once), most important first"
                + (
                    f"; the {MAX_FEATURES_SHOWN} largest, the other {rest} summed in the last bar"
                    if rest > 0
                    else ""
                )
                + ". Gradient methods leave integer-coded categories blank.",
            )
        )
        items.append(
            TableView("global_importance", "Global importance (share per method)", importance)
        )
    names = [str(n) for n in result.arrays.get("feature_names", [])]
    if names and methods:
        method = _most_faithful_complete(result, methods)
        values = np.asarray(result.arrays[f"attributions_{method}"], dtype=np.float64)[
            : 2 * MAX_SAMPLES_SHOWN
        ]
        shown_values = np.asarray(result.arrays["feature_values"])[: len(values)]
        limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        figure = go.Figure(
            go.Heatmap(
                z=values,
                x=[escape(n) for n in names],
                y=[f"sample {i}" for i in range(len(values))],
                customdata=[[escape(v) for v in row] for row in shown_values],
                colorscale="RdBu_r",
                zmin=-limit,
                zmax=limit,
                hovertemplate="%{x} = %{customdata}: %{z:.3g}<extra></extra>",
            )
        )
        figure.update_yaxes(autorange="reversed")
        figure.update_layout(
            height=120 + 32 * len(values), margin={"l": 10, "r": 10, "t": 10, "b": 80}
        )
        items.append(
            FigureView(
                "feature_map",
                f"Attributions per sample ({labels[method]})",
                figure,
                f"{labels[method]}: the most faithful method here that sees every feature. Rows "
                "are explained samples, columns logical features; hover for the value.",
            )
        )
    return items


def _most_faithful_complete(result: FamilyResult, methods: list[str]) -> str:
    """The method with the best faithfulness among those with a score for every feature."""
    faithfulness = {r["method"]: r["faithfulness"] for r in result.tables.get("quality", [])}
    complete = [
        m for m in methods if np.isfinite(np.asarray(result.arrays[f"attributions_{m}"])).all()
    ]
    candidates = complete or methods
    return max(candidates, key=lambda m: np.nan_to_num(faithfulness.get(m, np.nan), nan=-np.inf))


# -- shared --------------------------------------------------------------------------


def curves_figure(result: FamilyResult, methods: list[str], labels: dict) -> FigureView:
    """Mean deletion and insertion curves per method, with the random order for reference."""
    fractions = np.asarray(result.arrays.get("curve_fractions", []), dtype=np.float64)
    figure = make_subplots(rows=1, cols=2, subplot_titles=("deletion ↓", "insertion ↑"))
    palette = qualitative.Plotly
    for index, method in enumerate(methods):
        for col, kind in enumerate(("deletion", "insertion"), start=1):
            key = f"{kind}_curve_{method}"
            if key not in result.arrays:
                continue
            figure.add_trace(
                go.Scatter(
                    x=fractions,
                    y=result.arrays[key],
                    name=escape(labels[method]),
                    legendgroup=method,
                    showlegend=col == 1,
                    mode="lines",
                    line={"color": palette[index % len(palette)]},
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text="fraction of features removed / restored")
    figure.update_yaxes(title_text="explained output", col=1)
    figure.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 40})
    return FigureView(
        "curves",
        "Deletion and insertion curves",
        figure,
        "Features taken in attribution order: a faithful map makes the output fall fast when "
        "they are removed and rise fast when they are restored.",
    )


_TABLES = {
    "sensitive_share": (
        "Share of attribution on sensitive features",
        "Per sensitive attribute, the share of mean |attribution| its feature receives, from "
        "methods that see every feature (first row: the one the finding reads).",
    ),
    "proxies": (
        "Features that stand in for a sensitive attribute",
        "Per sensitive attribute and feature: how well the feature alone predicts the "
        "attribute (ROC AUC of the best-predicted group against the rest, with its "
        "Hanley–McNeil interval; categories through their cross-fitted group shares), and the "
        "feature's share of the attribution. High on both: a proxy.",
    ),
    "regions": (
        "Attribution inside named regions",
        "Per region (ExplainConfig(regions=...)) and method: the share of |attribution| that "
        "falls inside it, with a bootstrap interval over the explained samples, against its "
        "share of the input; the enrichment is their ratio (1: no more than its size).",
    ),
    "colour_share": (
        "Share of attribution on colour",
        "Integrated Gradients in a luminance / colour-difference basis: the share of |attribution| "
        "on the two colour-difference channels, overall and per group. 0 means colour-blind.",
    ),
    "randomisation": (
        "Randomisation test per stage",
        "Rank correlation between each method's maps and those of copies whose top layers were "
        "re-initialised (cascading to all layers); signed, and of absolute values.",
    ),
    "agreement": (
        "Agreement between methods",
        "Mean rank correlation of two methods' maps, and the overlap of their top features.",
    ),
    "group_quality": (
        "Faithfulness per group",
        "Deletion and insertion areas of each method per sensitive group.",
    ),
    "budget": (
        "Methods cut to the evaluation budget",
        "Estimated model evaluations announced before each method ran, and what was cut.",
    ),
    "cost": ("Cost per method", "Seconds and model evaluations of each method."),
    "latent_sensitivity": (
        "Latent sensitivity",
        "Per latent dimension: RMS change of the generated sample per unit step, and the "
        "absolute change of the discriminator's logit.",
    ),
    "samples": ("Explained samples", "The samples explained, their class and groups."),
}


def every_row_items(result: FamilyResult) -> list[View]:
    """Integrated Gradients over every evaluation row (``ExplainConfig(every_row=True)``):
    mean |attribution| per feature or token as bars, per pixel as a heat map."""
    n = result.metrics.get("every_row_n")
    if n is None:
        return []
    gap = result.metrics.get("every_row_completeness_gap", float("nan"))
    used = result.metrics.get("every_row_ig_steps")
    steps = f", with {int(used)} steps" if used else ""
    caption = (
        f"Integrated Gradients on all {int(n):,} evaluation rows, folded into exact means "
        f"(completeness gap {gap:.1%} of the output difference or size{steps}). "
        "The maps above explain a "
        "few samples in depth; this is the population they come from."
    )
    title = "Attribution over every row"
    if "every_row_mean_abs_map" in result.arrays:
        values, _ = block_means(np.asarray(result.arrays["every_row_mean_abs_map"], np.float64))
        figure = go.Figure(go.Heatmap(z=values[::-1], colorscale="Viridis", showscale=True))
        figure.update_layout(
            height=320, width=360, margin={"l": 10, "r": 10, "t": 10, "b": 10},
            xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        )  # fmt: skip
        return [FigureView("every-row", title, figure, caption + " Mean |attribution| per pixel.")]
    rows = result.tables.get("every_row_attribution") or []
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    name = "feature" if "feature" in frame else "token"
    shown = frame.dropna(subset=["mean_abs_attribution"]).head(MAX_TOKENS_SHOWN)[::-1]
    figure = go.Figure(
        go.Bar(
            x=shown["mean_abs_attribution"],
            y=[escape(v) for v in shown[name]],
            orientation="h",
        )
    )
    figure.update_layout(
        height=max(240, 22 * len(shown) + 60),
        xaxis_title="mean |attribution|",
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return [
        FigureView("every-row", title, figure, caption),
        TableView("every-row-table", title + " (table)", frame, caption),
    ]


def _tables(result: FamilyResult) -> list[View]:
    items: list[View] = []
    for key, (title, caption) in _TABLES.items():
        rows = result.tables.get(key)
        if rows:
            items.append(TableView(key, title, pd.DataFrame(rows), caption))
    return items


def latent_figure(result: FamilyResult) -> FigureView:
    """Bars of each latent dimension's effect on the generated samples."""
    frame = pd.DataFrame(result.tables["latent_sensitivity"])
    figure = go.Figure(go.Bar(x=frame["dimension"], y=frame["sample_change"], name="sample change"))
    figure.update_layout(
        height=300,
        xaxis_title="latent dimension",
        yaxis_title="RMS change per unit step",
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return FigureView(
        "latent",
        "Sensitivity of generated samples to each latent dimension",
        figure,
        "Dimensions near zero are unused; a few dominant ones suggest collapse onto them.",
    )
