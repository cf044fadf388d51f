"""The view of the ``robustness`` family: robust accuracy against ε, flipping ε and the
gaps between groups, natural perturbations, sanity checks and adversarial examples.

It only reads the bundle: curves plot the saved ``curve`` table (with its Wilson
intervals as error bars; with ``every_row``, the ``every_row_robust_accuracy`` table of
every row too), bars the saved medians and gaps, image examples are mosaics of the saved
arrays. Autoencoder and generator results use the same tables with their own
columns (``success_rate`` and ``direction``; ``latent_stability``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from deepaudit.reports.views.base import (
    FigureView,
    Section,
    TableView,
    TextView,
    escape,
)
from deepaudit.reports.views.common import image_figure, image_grid, metrics_frame

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult

FAMILY = "robustness"
_PADDING = 2  # pixels between example tiles
_CAPTION_BAND = 8  # image pixels above each example tile for its caption
#: The smallest height an example tile is drawn at, in screen pixels.
MIN_TILE_PX = 96

_CAPTIONS = {
    "curve": "Accuracy under attack at each ε (ε = 0 is clean accuracy), overall and per group, "
    "with 95% Wilson intervals; success rate is the share of correctly classified samples the "
    "attack breaks. ε is in scaled units (the input range for pixels, each feature's range "
    "for tables, the typical embedding size for text; words: the number of words changed).",
    "flip_epsilon": "Median of the smallest ε that flips each correctly classified sample "
    "(bisected between grid points; ∞ when even a very large ε failed), with bootstrap "
    "intervals.",
    "group_gaps": "At the reference ε, the largest gap between groups in survival (share of "
    "correctly classified samples still correct under attack; robustness bias, Nanda et al. "
    "2021) and in robust accuracy, with bootstrap intervals.",
    "natural": "Accuracy under natural corruptions (noise, blur, brightness, contrast, "
    "occlusion; typos, letter swaps, case; feature noise), with the drop from clean accuracy.",
    "sanity": "AutoAttack-style checks that the attack, not the model, is not what failed: "
    "logits rather than probabilities, non-zero gradients, accuracy falling with ε, a very "
    "large ε breaking nearly everything, a query-only attack adding nothing.",
    "examples": "A few samples per group that the attack broke, with the predictions before "
    "and after.",
    "score_shift": "How far a perturbation at the reference ε moves the anomaly score "
    "(relative change of the median).",
    "latent_stability": "Generated samples under latent perturbations of a given radius "
    "(fraction of the code's norm): RMS change of the output and, with a label model, the "
    "share whose label changes; random directions against the direction PGD finds that moves "
    "the output most.",
    "clean_accuracy": "Accuracy on every evaluation sample, overall and per group.",
    "every_row_robust_accuracy": "Every evaluation row attacked with PGD at each ε of the "
    "first norm's grid (streaming data included): the share still correct, overall and per "
    "group, with Wilson intervals, and the clean accuracy of the same rows. A row broken at "
    "an ε counts as broken at every larger one. Exact counts over all rows, not a sample.",
}


def _frame(result: FamilyResult, key: str) -> pd.DataFrame:
    frame = pd.DataFrame(result.tables.get(key, []))
    return frame.drop(columns=[c for c in frame.columns if c.endswith("_index")], errors="ignore")


def _label(row: pd.Series) -> str:
    norm = {"Linf": "L∞", "L2": "L2", "words": "words"}.get(row["norm"], row["norm"])
    direction = row.get("direction")
    prefix = f"{direction.replace('_', ' ')}: " if isinstance(direction, str) else ""
    return f"{prefix}{row['attack']} {norm}"


#: Lines per chart: beyond it the smallest groups are pooled into one "other" line.
MAX_SERIES = 8


def fold_small_groups(rows: pd.DataFrame, max_series: int = MAX_SERIES) -> pd.DataFrame:
    """``rows`` (one attribute's curve) with at most ``max_series`` groups: the largest
    ``max_series - 1`` and "other (k groups)", pooled from their counts (accuracy and a
    Wilson interval of the pooled rows). Rows without counts keep the largest only."""
    sizes = rows.groupby("group", sort=False)["n"].max().sort_values(ascending=False)
    if len(sizes) <= max_series:
        return rows
    kept, small = list(sizes.index[: max_series - 1]), list(sizes.index[max_series - 1 :])
    big = rows[rows["group"].isin(kept)]
    if "n_correct" not in rows.columns or "accuracy" not in rows.columns:
        return rows[rows["group"].isin(list(sizes.index[:max_series]))]
    from deepaudit.audit.robustness.stats import wilson

    keys = [c for c in ("attack", "norm", "direction", "epsilon") if c in rows.columns]
    pooled = rows[rows["group"].isin(small)].groupby(keys, sort=False, dropna=False)
    other = pooled[["n", "n_correct"]].sum().reset_index()
    other["group"] = f"other ({len(small)} groups)"
    other["attribute"] = rows["attribute"].iloc[0]
    other["accuracy"] = other["n_correct"] / other["n"].clip(lower=1)
    bounds = [
        wilson(int(c), int(n), 0.95) for c, n in zip(other["n_correct"], other["n"], strict=True)
    ]
    other["ci_low"], other["ci_high"] = zip(*bounds, strict=True) if bounds else ((), ())
    return pd.concat([big, other], ignore_index=True)


def curve_figure(curve: pd.DataFrame, attribute: str = "overall") -> go.Figure:
    """Accuracy (or success rate) against ε for each attack and norm, with intervals;
    for an attribute, one line per group of it (PGD only; at most :data:`MAX_SERIES`,
    the smallest groups pooled)."""
    value = "accuracy" if "accuracy" in curve.columns else "success_rate"
    rows = curve[curve["attribute"] == attribute]
    if attribute != "overall":
        rows = rows[rows["attack"] == "PGD"]
        parts = [fold_small_groups(part) for _, part in rows.groupby("norm", sort=False)]
        rows = pd.concat(parts, ignore_index=True) if parts else rows
    figure = go.Figure()
    keys = ["attack", "norm"] + (["direction"] if "direction" in rows.columns else [])
    for _, part in rows.groupby(keys + (["group"] if attribute != "overall" else []), sort=False):
        part = part.sort_values("epsilon")
        first = part.iloc[0]
        name = _label(first) + (f" · {escape(first['group'])}" if attribute != "overall" else "")
        figure.add_trace(
            go.Scatter(
                x=part["epsilon"],
                y=part[value],
                mode="lines+markers",
                name=name,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part[value]).clip(lower=0),
                    "arrayminus": (part[value] - part["ci_low"]).clip(lower=0),
                },
            )
        )
    figure.update_layout(
        xaxis_title="ε (scaled units; words for word substitution)",
        yaxis_title=value.replace("_", " "),
        yaxis_range=[0, 1.02],
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        legend_title_text=None if attribute == "overall" else attribute,
    )
    return figure


def every_row_figure(table: pd.DataFrame) -> go.Figure:
    """Robust accuracy of every row against ε: overall, and one line per group of the
    first sensitive attribute, with Wilson intervals."""
    attributes = [a for a in table["attribute"].unique() if a != "overall"]
    shown = ["overall", *attributes[:1]]
    figure = go.Figure()
    for (attribute, group), part in table[table["attribute"].isin(shown)].groupby(
        ["attribute", "group"], sort=False
    ):
        part = part.sort_values("eps")
        name = "overall" if attribute == "overall" else f"{attribute}={group}"
        figure.add_trace(
            go.Scatter(
                x=part["eps"],
                y=part["robust_accuracy"],
                mode="lines+markers",
                name=escape(name),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["robust_accuracy"]).clip(lower=0),
                    "arrayminus": (part["robust_accuracy"] - part["low"]).clip(lower=0),
                },
            )
        )
    figure.update_layout(
        xaxis_title="ε (scaled units)",
        yaxis_title="robust accuracy (every row)",
        yaxis_range=[0, 1.02],
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        legend_title_text=escape(attributes[0]) if attributes else None,
    )
    return figure


def flip_figure(flips: pd.DataFrame) -> go.Figure:
    """Median flipping ε per group, with bootstrap intervals (infinite values left out)."""
    figure = go.Figure()
    keys = ["norm"] + (["direction"] if "direction" in flips.columns else [])
    for _, part in flips.groupby(keys, sort=False):
        finite = part[np.isfinite(part["median"].astype(float))]
        labels = finite["attribute"] + "=" + finite["group"]
        high = finite["ci_high"].astype(float).replace(np.inf, np.nan)
        first = part.iloc[0]
        name = first["norm"] + (f" {first['direction']}" if "direction" in part.columns else "")
        figure.add_trace(
            go.Bar(
                x=labels,
                y=finite["median"],
                name=name,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (high - finite["median"]).clip(lower=0),
                    "arrayminus": (finite["median"] - finite["ci_low"]).clip(lower=0),
                },
            )
        )
    figure.update_layout(
        yaxis_title="median flipping ε",
        barmode="group",
        margin={"l": 40, "r": 10, "t": 30, "b": 80},
    )
    return figure


def natural_figure(natural: pd.DataFrame) -> go.Figure:
    rows = natural[natural["attribute"] == "overall"]
    labels = rows["perturbation"].str.replace("_", " ") + " " + rows["severity"].map("{:g}".format)
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=rows["accuracy"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (rows["ci_high"] - rows["accuracy"]).clip(lower=0),
                "arrayminus": (rows["accuracy"] - rows["ci_low"]).clip(lower=0),
            },
            name="perturbed",
        )
    )
    figure.add_trace(go.Scatter(x=labels, y=rows["clean_accuracy"], mode="markers", name="clean"))
    figure.update_layout(yaxis_title="accuracy", yaxis_range=[0, 1.02], margin={"t": 30})
    return figure


def latent_figure(latent: pd.DataFrame) -> go.Figure:
    value = "label_flip_rate" if "label_flip_rate" in latent.columns else "median_rms_change"
    figure = go.Figure()
    for direction, part in latent.groupby("direction", sort=False):
        figure.add_trace(
            go.Scatter(x=part["radius"], y=part[value], mode="lines+markers", name=direction)
        )
    figure.update_layout(
        xaxis_title="latent radius (fraction of the code's norm)",
        yaxis_title=value.replace("_", " "),
        margin={"t": 30},
    )
    return figure


def _value_range(bundle: AuditBundle, images: np.ndarray) -> tuple[float, float]:
    given = bundle.target.get("input_range")
    if given is not None and len(given) == 2:
        return float(given[0]), float(given[1])
    return float(np.min(images)), float(np.max(images))


def examples_figure(bundle: AuditBundle, result: FamilyResult) -> go.Figure | None:
    """Image examples: each row the original, the adversarial image and the perturbation
    (amplified to the full range for that row; mid-grey is no change), captioned with the
    prediction before, after, and the ε."""
    original = result.arrays.get("examples_original")
    adversarial = result.arrays.get("examples_adversarial")
    if original is None or adversarial is None or np.ndim(original) != 4:
        return None
    lo, hi = _value_range(bundle, np.concatenate([original, adversarial]))
    delta = adversarial - original
    scale = np.maximum(np.abs(delta).reshape(len(delta), -1).max(axis=1), 1e-12)
    amplified = lo + (hi - lo) * (0.5 + 0.5 * delta / scale[:, None, None, None])
    tiles = np.stack([original, adversarial, amplified], axis=1).reshape(-1, *original.shape[1:])
    # a white band above each tile holds its caption, so no label covers an image
    tiles = np.pad(tiles, ((0, 0), (0, 0), (_CAPTION_BAND, 0), (0, 0)), constant_values=hi)
    grid = image_grid(tiles, (lo, hi), n_columns=3, padding=_PADDING)
    height, width = original.shape[2], original.shape[3]
    scale = max(1.0, MIN_TILE_PX / height)  # small images drawn at least MIN_TILE_PX tall
    figure = image_figure(grid, height=int(grid.shape[0] * scale) + 20)
    row_height = height + _CAPTION_BAND + _PADDING
    annotations = [  # one layout call: plotly validates annotations added one by one slowly
        {
            "x": column * (width + _PADDING) + width / 2,
            "y": i * row_height,
            "text": escape(text),
            "showarrow": False,
            "xanchor": "center",
            "yanchor": "top",
            "font": {"size": 11, "color": "#1d1f23"},
        }
        for i, row in enumerate(result.tables.get("examples", [])[: len(original)])
        for column, text in enumerate(
            (row.get("before"), row.get("after"), f"ε={row.get('epsilon', 0):.3g}")
        )
    ]
    figure.update_layout(annotations=annotations)
    return figure


def robustness_view(bundle: AuditBundle, result: FamilyResult) -> Section:
    """Tables and figures of the robustness family (see the module docstring)."""
    items: list = [TableView("metrics", "Metrics", metrics_frame(result))]
    curve = _frame(result, "curve")
    if not curve.empty:
        items.append(
            FigureView(
                "curve_plot", "Robustness against ε", curve_figure(curve), _CAPTIONS["curve"]
            )
        )
        for attribute in [a for a in curve["attribute"].unique() if a != "overall"]:
            items.append(
                FigureView(
                    f"curve_plot_{attribute}",
                    f"Robustness against ε by {attribute}",
                    curve_figure(curve, attribute),
                    _CAPTIONS["curve"],
                )
            )
    every_row = _frame(result, "every_row_robust_accuracy")
    if not every_row.empty:
        items.append(
            FigureView(
                "every_row_plot",
                "Robustness of every row against ε",
                every_row_figure(every_row),
                _CAPTIONS["every_row_robust_accuracy"],
            )
        )
    flips = _frame(result, "flip_epsilon")
    if not flips.empty:
        items.append(
            FigureView(
                "flip_plot",
                "Median flipping ε per group",
                flip_figure(flips),
                _CAPTIONS["flip_epsilon"],
            )
        )
    natural = _frame(result, "natural")
    if not natural.empty:
        items.append(
            FigureView(
                "natural_plot",
                "Natural perturbations",
                natural_figure(natural),
                _CAPTIONS["natural"],
            )
        )
    latent = _frame(result, "latent_stability")
    if not latent.empty:
        items.append(
            FigureView(
                "latent_plot",
                "Stability under latent perturbations",
                latent_figure(latent),
                _CAPTIONS["latent_stability"],
            )
        )
    pictures = examples_figure(bundle, result)
    if pictures is not None:
        items.append(
            FigureView(
                "examples_plot",
                "Adversarial examples (original · adversarial · perturbation)",
                pictures,
                _CAPTIONS["examples"],
            )
        )
    titles = {
        "curve": "Accuracy under attack",
        "every_row_robust_accuracy": "Accuracy under attack, every row",
        "clean_accuracy": "Clean accuracy",
        "flip_epsilon": "Flipping ε",
        "group_gaps": "Gaps between groups",
        "natural": "Natural perturbations",
        "score_shift": "Anomaly-score shift",
        "latent_stability": "Latent stability",
        "sanity": "Sanity checks",
        "examples": "Adversarial examples",
    }
    for key, title in titles.items():
        if key in result.tables:
            items.append(TableView(key, title, _frame(result, key), _CAPTIONS.get(key, "")))
    for i, note in enumerate(result.notes):
        items.append(TextView(f"note-{i}", "Note", note))
    return Section(
        family=FAMILY,
        title="Robustness",
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )
