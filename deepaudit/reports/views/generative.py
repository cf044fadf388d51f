"""The view of the ``generative`` family: sample grids, coverage, memorisation, and the
reconstruction errors of autoencoders.

It only reads the bundle: image grids are mosaics of the saved sample arrays (embedded
as PNG by plotly), charts plot the saved tables and histogram counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from deepaudit.reports.views.base import FigureView, Section, TableView, TextView, escape
from deepaudit.reports.views.common import image_figure, image_grid, metrics_frame

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, FamilyResult

FAMILY = "generative"
_PRDC_CAPTION = (
    "Precision: share of generated samples inside the real data's k-NN manifold; recall: "
    "share of real samples inside the generated manifold (Kynkäänniemi et al. 2019). "
    "Density and coverage (Naeem et al. 2020) are their outlier-robust versions. Intervals "
    "are bootstrap percentiles; the real baseline compares training with held-out real "
    "samples, the values a perfect generator would reach."
)


# -- image helpers -------------------------------------------------------------------------

_PADDING = 2  # pixels between tiles, as drawn by common.image_grid


def _value_range(bundle: AuditBundle, images: np.ndarray) -> tuple[float, float]:
    given = bundle.target.get("input_range")
    if given is not None and len(given) == 2:
        return float(given[0]), float(given[1])
    return float(np.min(images)), float(np.max(images))


def _is_image(arr: np.ndarray | None) -> bool:
    return arr is not None and np.ndim(arr) == 4 and len(arr) > 0


def captioned_grid(
    bundle: AuditBundle,
    images: np.ndarray,
    n_columns: int,
    labels: list[str] | None = None,
) -> go.Figure:
    """Tiled images (the shared :func:`image_grid`, drawn by :func:`image_figure`), each
    optionally captioned in its top-left corner."""
    n_columns = max(1, min(n_columns, len(images)))
    figure = image_figure(
        image_grid(images, _value_range(bundle, images), n_columns=n_columns, padding=_PADDING)
    )
    h, w = images.shape[2], images.shape[3]
    annotations = [  # one layout call: annotations added one by one are slow to validate
        {
            "x": (i % n_columns) * (w + _PADDING),
            "y": (i // n_columns) * (h + _PADDING),
            "text": escape(label),
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": 12, "color": "gold"},
        }
        for i, label in enumerate(labels or [])
        if label
    ]
    if annotations:
        figure.update_layout(annotations=annotations)
    return figure


def _rows_table(arr: np.ndarray, key: str, title: str, caption: str) -> TableView:
    flat = np.asarray(arr).reshape(len(arr), -1)
    return TableView(key, title, pd.DataFrame(flat), caption)


# -- generators ------------------------------------------------------------------------------


def _fidelity_figure(rows: list[dict]) -> go.Figure:
    frame = pd.DataFrame([r for r in rows if r["metric"] != "frechet_distance"])
    has_interval = frame["interval_low"].notna().all()
    error = (
        {
            "type": "data",
            "symmetric": False,
            "array": (frame["interval_high"] - frame["value"]).tolist(),
            "arrayminus": (frame["value"] - frame["interval_low"]).tolist(),
        }
        if has_interval
        else None
    )
    figure = go.Figure(go.Bar(x=frame["metric"], y=frame["value"], name="generated", error_y=error))
    if frame["real_baseline"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=frame["metric"],
                y=frame["real_baseline"],
                mode="markers",
                marker={"symbol": "line-ew-open", "size": 30, "line": {"width": 3}},
                name="real baseline",
            )
        )
    figure.update_layout(yaxis_title="value", height=320, margin={"t": 20})
    return figure


def _coverage_figure(rows: list[dict]) -> go.Figure:
    frame = pd.DataFrame(rows)
    figure = go.Figure(
        [
            go.Bar(x=frame["class"], y=frame["recall"], name="recall"),
            go.Bar(x=frame["class"], y=frame["coverage"], name="coverage"),
        ]
    )
    figure.update_layout(
        barmode="group", xaxis_title="class of the real samples", yaxis_range=[0, 1], height=320
    )
    figure.update_xaxes(type="category")
    return figure


def _histogram_figure(
    edges: np.ndarray, series: dict[str, np.ndarray], threshold: float | None, x_title: str
) -> go.Figure:
    """Overlaid histograms (each normalised to shares) on shared bin edges."""
    centres = (edges[:-1] + edges[1:]) / 2
    widths = np.diff(edges)
    figure = go.Figure()
    for name, counts in series.items():
        total = max(int(np.sum(counts)), 1)
        figure.add_trace(
            go.Bar(x=centres, y=np.asarray(counts) / total, width=widths, name=name, opacity=0.6)
        )
    if threshold is not None and np.isfinite(threshold):
        figure.add_vline(x=threshold, line_dash="dash", annotation_text="threshold")
    figure.update_layout(
        barmode="overlay", xaxis_title=x_title, yaxis_title="share of samples", height=320
    )
    return figure


def _generator_items(bundle: AuditBundle, result: FamilyResult) -> list:
    arrays, tables, m = result.arrays, result.tables, result.metrics
    items: list = []
    if "fidelity" in tables:
        items.append(
            TableView(
                "fidelity",
                "Fidelity and coverage",
                pd.DataFrame(tables["fidelity"]),
                f"{_PRDC_CAPTION} Feature space: {m.get('feature_space')}.",
            )
        )
        items.append(
            FigureView(
                "fidelity_chart",
                "Precision, recall, density, coverage",
                _fidelity_figure(tables["fidelity"]),
            )
        )
    if "coverage_by_class" in tables:
        items.append(
            TableView(
                "coverage_by_class",
                "Coverage by class",
                pd.DataFrame(tables["coverage_by_class"]),
                "Among the real samples of each class: the share inside the generated "
                "manifold (recall) and the share with a generated sample within their own "
                "k-NN radius (coverage). A class the generator misses scores low on both.",
            )
        )
        items.append(
            FigureView(
                "coverage_by_class_chart",
                "Coverage by class",
                _coverage_figure(tables["coverage_by_class"]),
            )
        )
    grid = arrays.get("sample_grid")
    if _is_image(grid):
        classes = arrays.get("sample_grid_classes")
        items.append(
            FigureView(
                "sample_grid",
                "Generated samples",
                captioned_grid(
                    bundle,
                    grid,
                    int(np.ceil(np.sqrt(len(grid)))),
                    None if classes is None else [str(c) for c in classes],
                ),
                "Seeded samples"
                + (
                    ", each captioned with the label model's class." if classes is not None else "."
                ),
            )
        )
    elif grid is not None and len(grid):
        items.append(_rows_table(grid, "sample_grid", "Generated samples", "Seeded samples."))
    strips = arrays.get("interpolations")
    if strips is not None and np.ndim(strips) == 5 and len(strips):
        n, steps = strips.shape[:2]
        ratios = arrays.get("interpolation_jump_ratios")
        ratio_text = (
            ""
            if ratios is None
            else " Largest step over mean step per row: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + " (1 = evenly paced)."
        )
        items.append(
            FigureView(
                "interpolations",
                "Latent interpolations",
                captioned_grid(bundle, strips.reshape(n * steps, *strips.shape[2:]), steps),
                "Each row walks the great circle between two random latent codes." + ratio_text,
            )
        )
    uncovered = arrays.get("uncovered_samples")
    if _is_image(uncovered):
        gaps = arrays.get("uncovered_gap")
        items.append(
            FigureView(
                "uncovered",
                "Real samples the generator misses",
                captioned_grid(
                    bundle,
                    uncovered,
                    len(uncovered),
                    None if gaps is None else [f"{g:.1f}×" for g in gaps],
                ),
                "Held-out real samples farthest from every generated sample, in multiples "
                "of their own k-NN radius.",
            )
        )
    if "diversity" in tables:
        items.append(
            TableView(
                "diversity",
                "Diversity",
                pd.DataFrame(tables["diversity"]),
                f"Mean pairwise distance of generated over real samples: "
                f"{m.get('diversity_ratio', float('nan')):.2f} (well below 1 suggests mode collapse).",
            )
        )
    items.extend(_memorisation_items(bundle, result))
    return items


def _memorisation_items(bundle: AuditBundle, result: FamilyResult) -> list:
    arrays, tables, m = result.arrays, result.tables, result.metrics
    if "memorisation" not in tables:
        return []
    items: list = [
        TableView(
            "memorisation",
            "Memorisation",
            pd.DataFrame(tables["memorisation"]),
            "Distance from each sample to its nearest training sample. A generated sample "
            f"closer than {m.get('copy_threshold', float('nan')):.4g} (the held-out real "
            "samples' low quantile) counts as a copy.",
        )
    ]
    if "memorisation_edges" in arrays:
        items.append(
            FigureView(
                "memorisation_histogram",
                "Distance to the nearest training sample",
                _histogram_figure(
                    arrays["memorisation_edges"],
                    {
                        "generated": arrays["memorisation_generated_counts"],
                        "held-out real": arrays["memorisation_heldout_counts"],
                    },
                    m.get("copy_threshold"),
                    "distance to nearest training sample",
                ),
            )
        )
    generated, train = arrays.get("neighbour_generated"), arrays.get("neighbour_train")
    if _is_image(generated) and _is_image(train):
        distances = arrays.get("neighbour_distances", np.full(len(generated), np.nan))
        items.append(
            FigureView(
                "nearest_neighbours",
                "Nearest training neighbours",
                captioned_grid(
                    bundle,
                    np.concatenate([generated, train]),
                    len(generated),
                    [f"{d:.2f}" for d in distances] + [""] * len(train),
                ),
                "Top row: the generated samples closest to the training data (their "
                "distance in the corner); bottom row: the training sample each is closest to.",
            )
        )
    if "nearest_neighbours" in tables:
        items.append(
            TableView(
                "nearest_neighbours_table",
                "Nearest training neighbours",
                pd.DataFrame(tables["nearest_neighbours"]),
            )
        )
    return items


# -- autoencoders -----------------------------------------------------------------------------


def _autoencoder_items(bundle: AuditBundle, result: FamilyResult) -> list:
    arrays, tables, m = result.arrays, result.tables, result.metrics
    items: list = []
    if "error_edges" in arrays:
        series = {"held-out": arrays["heldout_counts"]}
        if "reference_counts" in arrays:
            series["reference"] = arrays["reference_counts"]
        figure = _histogram_figure(
            arrays["error_edges"], series, m.get("anomaly_threshold"), "reconstruction error"
        )
        edges = arrays["error_edges"]
        if edges[0] > 0 and edges[-1] / edges[0] > 20:
            figure.update_xaxes(type="log")
        ks = m.get("error_shift_ks")
        items.append(
            FigureView(
                "error_distributions",
                "Reconstruction error: held-out vs reference",
                figure,
                "Shares of samples per error bin; the dashed line is the anomaly threshold."
                + ("" if ks is None else f" Kolmogorov–Smirnov distance {ks:.3f}."),
            )
        )
    if "feature_errors" in tables:
        frame = pd.DataFrame(tables["feature_errors"])
        items.append(
            TableView(
                "feature_errors",
                "Reconstruction error per feature",
                frame,
                "Each feature's share of the mean squared error (its columns together); the "
                "shares of a sample add up to its anomaly score. flagged_share: the share "
                "among samples flagged as anomalies.",
            )
        )
        bars = [go.Bar(x=frame["feature"], y=frame["heldout_mean_error"], name="held-out")]
        if "reference_mean_error" in frame:
            bars.append(
                go.Bar(x=frame["feature"], y=frame["reference_mean_error"], name="reference")
            )
        figure = go.Figure(bars)
        figure.update_layout(barmode="group", yaxis_title="mean error contribution", height=340)
        items.append(FigureView("feature_errors_chart", "Error per feature", figure))
    if "worst_samples" in tables:
        items.append(
            TableView(
                "worst_samples",
                "Worst-reconstructed samples",
                pd.DataFrame(tables["worst_samples"]),
                "Held-out samples with the largest reconstruction error and the features "
                "their error comes from (share of the sample's error).",
            )
        )
        worst = arrays.get("worst_feature_errors")
        if worst is not None and len(worst) and "feature_errors" in tables:
            names = [r["feature"] for r in tables["feature_errors"]]
            shares = worst / np.maximum(worst.sum(axis=1, keepdims=True), 1e-300)
            figure = go.Figure(
                go.Heatmap(
                    z=shares,
                    x=names,
                    y=[f"#{i}" for i in arrays["worst_ids"]],
                    colorscale="Reds",
                    zmin=0,
                    zmax=1,
                    colorbar={"title": "share"},
                )
            )
            figure.update_yaxes(autorange="reversed", type="category")
            figure.update_layout(height=max(240, 24 * len(worst) + 120))
            items.append(
                FigureView(
                    "worst_samples_heatmap",
                    "Where the worst errors come from",
                    figure,
                    "Rows: worst-reconstructed samples (by id); columns: features; colour: "
                    "the feature's share of the sample's error.",
                )
            )
    error_map = arrays.get("pixel_error_map")
    if error_map is not None and np.ndim(error_map) == 2:
        figure = px.imshow(error_map, color_continuous_scale="Reds")
        figure.update_layout(height=320)
        items.append(
            FigureView(
                "pixel_error_map", "Mean squared error per pixel", figure, "Over held-out samples."
            )
        )
    return items


def generative_view(bundle: AuditBundle, result: FamilyResult) -> Section:
    """Sample grids, fidelity and coverage, memorisation (generators); error distributions
    and their per-feature sources (autoencoders)."""
    items: list = [TableView("metrics", "Metrics", metrics_frame(result))]
    if bundle.target.get("kind") == "autoencoder" or "error_edges" in result.arrays:
        items.extend(_autoencoder_items(bundle, result))
    else:
        items.extend(_generator_items(bundle, result))
    for i, note in enumerate(result.notes):
        items.append(TextView(f"note-{i}", "Note", note))
    return Section(
        family=result.family,
        title="Generative audit",
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )
