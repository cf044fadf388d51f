"""The overview family's view: quality, calibration, reconstruction error, generated samples.

Classifiers: the quality metrics, the per-class table, the confusion matrix as a heat
map and the reliability diagram. Autoencoders: the reconstruction-error histogram with
the anomaly threshold and the most anomalous samples. Generators: a grid of generated
samples and their statistics beside the real data's. Every number is read from the
bundle (see :mod:`deepaudit.audit.overview`); nothing is recomputed here.
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
    View,
    escape,
)
from deepaudit.reports.views.common import image_figure, image_grid, metrics_frame

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult

FAMILY = "overview"

_TITLES = {
    "classifier": "Overview: quality and calibration",
    "autoencoder": "Overview: reconstruction error",
    "generator": "Overview: generated samples",
}


def overview_view(bundle: AuditBundle, result: FamilyResult) -> Section:
    """The overview section of a report or dashboard page."""
    kind = bundle.target.get("kind", "classifier")
    items: list[View] = [
        TableView("metrics", "Quality metrics", metrics_frame(result), _metrics_caption(kind))
    ]
    if kind == "classifier":
        items += _classifier_items(bundle, result)
    elif kind == "autoencoder":
        items += _autoencoder_items(result)
    elif kind == "generator":
        items += _generator_items(bundle, result)
    return Section(
        family=FAMILY,
        title=_TITLES.get(kind, "Overview"),
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )


def _metrics_caption(kind: str) -> str:
    if kind == "classifier":
        return (
            "Computed by scikit-learn on the audited samples; ECE is the top-label expected "
            "calibration error over equal-width confidence bins."
        )
    if kind == "autoencoder":
        return "Reconstruction error per sample (mean squared error over features)."
    return "Statistics of generated samples; gaps are in units of the real data's spread."


# -- classifiers -----------------------------------------------------------------------


def class_labels(bundle: AuditBundle, result: FamilyResult, n_classes: int) -> list[str]:
    """Class names from the per-class table, else the target's, else the class indices."""
    rows = result.tables.get("per_class") or result.tables.get("prediction_counts") or []
    names = [str(row["class"]) for row in rows]
    if len(names) == n_classes:
        return names
    names = bundle.target.get("class_names") or []
    if len(names) == n_classes:
        return [str(n) for n in names]
    return [str(i) for i in range(n_classes)]


def _classifier_items(bundle: AuditBundle, result: FamilyResult) -> list[View]:
    items: list[View] = []
    if "per_class" in result.tables:
        items.append(
            TableView(
                "per_class",
                "Per-class precision, recall and F1",
                pd.DataFrame(result.tables["per_class"]),
                "Support is the number of audited samples of each class.",
            )
        )
    if "confusion_matrix" in result.arrays:
        matrix = np.asarray(result.arrays["confusion_matrix"])
        labels = class_labels(bundle, result, matrix.shape[0])
        items.append(
            FigureView(
                "confusion_matrix",
                "Confusion matrix",
                confusion_figure(matrix, labels),
                "Rows: true class; columns: predicted class. Colour: share of the true "
                "class (recall on the diagonal); numbers: sample counts.",
            )
        )
    if "reliability_edges" in result.arrays:
        items.append(
            FigureView(
                "reliability",
                "Reliability diagram",
                reliability_figure(
                    result.arrays["reliability_edges"],
                    result.arrays["reliability_counts"],
                    result.arrays["reliability_confidence"],
                    result.arrays["reliability_accuracy"],
                    result.metrics.get("ece"),
                ),
                "Accuracy against mean confidence in each confidence bin (marker area: "
                "samples in the bin). A calibrated model lies on the diagonal.",
            )
        )
    if "prediction_counts" in result.tables and "per_class" not in result.tables:
        items.append(
            TableView(
                "prediction_counts",
                "Predicted classes",
                pd.DataFrame(result.tables["prediction_counts"]),
                "No labels were given: only how often each class is predicted.",
            )
        )
    return items


def confusion_figure(matrix: np.ndarray, labels: list[str]) -> go.Figure:
    """A heat map of the confusion matrix: colour by row share, text by count."""
    matrix = np.asarray(matrix, dtype=np.int64)
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    shown = [escape(label) for label in labels]
    figure = go.Figure(
        go.Heatmap(
            z=share,
            x=shown,
            y=shown,
            text=matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0.0,
            zmax=1.0,
            colorbar={"title": {"text": "share of row"}},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text} samples "
            "(%{z:.1%} of the class)<extra></extra>",
        )
    )
    size = int(min(640, max(320, 44 * len(labels) + 160)))
    figure.update_layout(
        height=size,
        xaxis={"title": {"text": "predicted class"}, "type": "category", "side": "bottom"},
        yaxis={"title": {"text": "true class"}, "type": "category", "autorange": "reversed"},
        margin={"l": 80, "r": 20, "t": 20, "b": 60},
    )
    return figure


def reliability_figure(
    edges: np.ndarray,
    counts: np.ndarray,
    confidence: np.ndarray,
    accuracy: np.ndarray,
    ece: float | None = None,
) -> go.Figure:
    """Accuracy against confidence per bin, with the diagonal of perfect calibration."""
    counts = np.asarray(counts)
    filled = counts > 0
    conf = np.asarray(confidence, dtype=np.float64)[filled]
    acc = np.asarray(accuracy, dtype=np.float64)[filled]
    n = counts[filled]
    lo, hi = np.asarray(edges)[:-1][filled], np.asarray(edges)[1:][filled]
    size = 8 + 22 * np.sqrt(n / max(int(n.max()) if len(n) else 1, 1))
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dash", "color": "#888"},
            name="perfect calibration",
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=conf,
            y=acc,
            mode="lines+markers",
            marker={"size": size, "color": "#1f5fa8"},
            name="model",
            customdata=np.stack([lo, hi, n], axis=1) if len(n) else None,
            hovertemplate="confidence (%{customdata[0]:.2f}, %{customdata[1]:.2f}]<br>"
            "mean confidence %{x:.3f}<br>accuracy %{y:.3f}<br>"
            "%{customdata[2]} samples<extra></extra>",
        )
    )
    title = "" if ece is None else f"ECE = {ece:.3f}"
    figure.update_layout(
        height=420,
        title={"text": title},
        xaxis={"title": {"text": "mean confidence"}, "range": [0, 1.02]},
        yaxis={"title": {"text": "accuracy"}, "range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
    )
    return figure


# -- autoencoders ----------------------------------------------------------------------


def _autoencoder_items(result: FamilyResult) -> list[View]:
    items: list[View] = []
    arrays = result.arrays
    threshold = result.metrics.get("anomaly_threshold")
    if "error_histogram_counts" in arrays:
        items.append(
            FigureView(
                "error_histogram",
                "Reconstruction error",
                error_histogram_figure(
                    arrays["error_histogram_counts"], arrays["error_histogram_edges"], threshold
                ),
                "Distribution of the per-sample reconstruction error; samples right of the "
                "threshold are flagged as anomalies.",
            )
        )
    if "error_quantiles" in arrays:
        quantiles = np.asarray(arrays["error_quantiles"], dtype=np.float64)
        levels = [0.05, 0.25, 0.5, 0.75, 0.95][: len(quantiles)]
        items.append(
            TableView(
                "error_quantiles",
                "Quantiles of the reconstruction error",
                pd.DataFrame({"quantile": levels, "error": quantiles.tolist()}),
            )
        )
    if "errors" in arrays:
        errors = np.asarray(arrays["errors"], dtype=np.float64)
        worst = np.argsort(-errors, kind="stable")[:10]
        items.append(
            TableView(
                "anomalous_samples",
                "Most anomalous samples",
                pd.DataFrame({"sample": worst.tolist(), "error": errors[worst].tolist()}),
                "Sample indices are positions in the audited data.",
            )
        )
    return items


def error_histogram_figure(
    counts: np.ndarray, edges: np.ndarray, threshold: float | None = None
) -> go.Figure:
    """Bars of the saved error histogram, with the anomaly threshold as a vertical line."""
    counts = np.asarray(counts)
    edges = np.asarray(edges, dtype=np.float64)
    figure = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            marker={"color": "#1f5fa8"},
            customdata=np.stack([edges[:-1], edges[1:]], axis=1),
            hovertemplate="error [%{customdata[0]:.4g}, %{customdata[1]:.4g})<br>"
            "%{y} samples<extra></extra>",
            name="samples",
        )
    )
    if threshold is not None:
        figure.add_vline(
            x=float(threshold),
            line={"color": "#b3261e", "dash": "dash"},
            annotation_text=f"threshold {float(threshold):.4g}",
            annotation_position="top right",
        )
    figure.update_layout(
        height=380,
        bargap=0.02,
        xaxis={"title": {"text": "reconstruction error"}},
        yaxis={"title": {"text": "samples"}},
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        showlegend=False,
    )
    return figure


# -- generators ------------------------------------------------------------------------


def _generator_items(bundle: AuditBundle, result: FamilyResult) -> list[View]:
    items: list[View] = []
    samples = result.arrays.get("samples")
    if samples is not None and np.ndim(samples) in (3, 4):
        value_range = tuple(bundle.target.get("input_range") or (0.0, 1.0))
        grid = image_grid(samples, value_range=value_range, n_columns=8)
        items.append(
            FigureView(
                "samples",
                f"{len(samples)} generated samples",
                image_figure(grid),
                f"Drawn with the audit's seed; values in [{value_range[0]:g}, "
                f"{value_range[1]:g}] shown from black to white.",
            )
        )
    m = result.metrics
    if "real_mean" in m:
        rows = [
            {"statistic": "mean", "generated": m["sample_mean"], "real": m["real_mean"]},
            {
                "statistic": "standard deviation",
                "generated": m["sample_std"],
                "real": m["real_std"],
            },
            {
                "statistic": "diversity (mean per-pixel spread)",
                "generated": m["diversity"],
                "real": m.get("real_diversity"),
            },
        ]
        if "discriminator_fake_mean" in m and "discriminator_real_mean" in m:
            rows.append(
                {
                    "statistic": "mean discriminator score",
                    "generated": m["discriminator_fake_mean"],
                    "real": m["discriminator_real_mean"],
                }
            )
        items.append(
            TableView(
                "sample_statistics",
                "Generated against real samples",
                pd.DataFrame(rows, columns=["statistic", "generated", "real"]),
                f"Mean gap {m['mean_gap']:.3f}, spread gap {m['std_gap']:.3f} (in real "
                "standard deviations).",
            )
        )
    return items
