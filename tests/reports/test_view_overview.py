"""The overview view and the shared view helpers: they show the bundle's numbers, no others."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from deepaudit.reports.views import (
    FigureView,
    TableView,
    escape,
    family_section,
    image_grid,
    method_cost_frame,
)
from deepaudit.reports.views.overview import class_labels, confusion_figure, reliability_figure
from deepaudit.results import FamilyResult
from tests.reports.helpers import PLANTED_CLASS, planted_family_result


def decode(values) -> np.ndarray:
    """A plotly trace array, plain or typed-array encoded, as numpy."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = values.get("shape")
        if shape:
            array = array.reshape([int(s) for s in str(shape).split(",")])
        return array
    return np.asarray(values)


def test_classifier_section_shows_metrics_per_class_confusion_and_reliability(classifier_bundle):
    section = family_section(classifier_bundle, "overview")
    result = classifier_bundle["overview"]
    assert [v.key for v in section.items] == [
        "metrics",
        "per_class",
        "confusion_matrix",
        "reliability",
    ]
    metrics = section.item("metrics").frame.set_index("metric")["value"]
    assert metrics["accuracy"] == result.metrics["accuracy"]
    assert section.item("per_class").frame.to_dict("records") == result.tables["per_class"]
    assert section.findings == result.findings
    assert section.cost == {
        "seconds": result.seconds,
        "model_evaluations": result.model_evaluations,
    }


def test_confusion_heat_map_colours_by_row_share_and_labels_by_count():
    matrix = np.array([[8, 2], [1, 3]])
    trace = confusion_figure(matrix, ["no", "<b>yes</b>"]).to_plotly_json()["data"][0]
    np.testing.assert_allclose(decode(trace["z"]), [[0.8, 0.2], [0.25, 0.75]])
    np.testing.assert_array_equal(decode(trace["text"]), matrix)
    assert list(trace["x"]) == ["no", "&lt;b&gt;yes&lt;/b&gt;"]  # plotly shows it as written


def test_confusion_heat_map_of_an_empty_class_is_zero_not_nan():
    trace = confusion_figure(np.array([[0, 0], [1, 3]]), ["a", "b"]).to_plotly_json()["data"][0]
    np.testing.assert_allclose(decode(trace["z"]), [[0, 0], [0.25, 0.75]])


def test_reliability_diagram_plots_the_non_empty_bins(classifier_bundle):
    arrays = classifier_bundle["overview"].arrays
    figure = reliability_figure(
        arrays["reliability_edges"],
        arrays["reliability_counts"],
        arrays["reliability_confidence"],
        arrays["reliability_accuracy"],
        0.1234,
    )
    model = figure.to_plotly_json()["data"][1]
    filled = arrays["reliability_counts"] > 0
    np.testing.assert_allclose(decode(model["x"]), arrays["reliability_confidence"][filled])
    np.testing.assert_allclose(decode(model["y"]), arrays["reliability_accuracy"][filled])
    np.testing.assert_array_equal(
        decode(model["customdata"])[:, 2], arrays["reliability_counts"][filled]
    )
    assert figure.layout.title.text == "ECE = 0.123"


def test_class_labels_come_from_the_table_then_the_target(classifier_bundle):
    result = classifier_bundle["overview"]
    assert class_labels(classifier_bundle, result, 2) == ["no", "yes"]
    bare = FamilyResult("overview")
    assert class_labels(classifier_bundle, bare, 2) == ["no", "yes"]  # target.class_names
    assert class_labels(classifier_bundle, bare, 3) == ["0", "1", "2"]


def test_planted_class_name_is_escaped_in_the_confusion_figure(planted_bundle):
    figure = family_section(planted_bundle, "overview").item("confusion_matrix").figure
    labels = list(figure.data[0].x)
    assert escape(PLANTED_CLASS) in labels and PLANTED_CLASS not in labels


def test_autoencoder_section_draws_the_saved_histogram_and_threshold(autoencoder_bundle):
    section = family_section(autoencoder_bundle, "overview")
    result = autoencoder_bundle["overview"]
    assert [v.key for v in section.items] == [
        "metrics", "error_histogram", "error_quantiles", "anomalous_samples",
    ]  # fmt: skip
    figure = section.item("error_histogram").figure
    bars = figure.to_plotly_json()["data"][0]
    edges = result.arrays["error_histogram_edges"]
    np.testing.assert_array_equal(decode(bars["y"]), result.arrays["error_histogram_counts"])
    np.testing.assert_allclose(decode(bars["x"]), (edges[:-1] + edges[1:]) / 2)
    line = figure.layout.shapes[0]
    assert line.x0 == line.x1 == pytest.approx(result.metrics["anomaly_threshold"])
    worst = section.item("anomalous_samples").frame
    errors = result.arrays["errors"]
    assert worst["sample"].tolist() == np.argsort(-errors, kind="stable")[:10].tolist()
    assert worst["error"].tolist() == pytest.approx(np.sort(errors)[::-1][:10].tolist())
    quantiles = section.item("error_quantiles").frame
    assert quantiles["error"].tolist() == result.arrays["error_quantiles"].tolist()


def test_generator_section_shows_the_saved_samples_and_their_statistics(generator_bundle):
    section = family_section(generator_bundle, "overview")
    result = generator_bundle["overview"]
    grid = section.item("samples")
    assert isinstance(grid, FigureView) and grid.title == "64 generated samples"
    source = grid.figure.data[0].source
    png = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
    samples = result.arrays["samples"]  # the first 64 generated, 1 × 4 × 4 in [0, 1]
    expected = image_grid(samples, (0.0, 1.0), n_columns=8)
    np.testing.assert_array_equal(np.asarray(png.convert("RGB")), expected)
    stats = section.item("sample_statistics")
    assert isinstance(stats, TableView)
    row = stats.frame.set_index("statistic").loc["mean"]
    assert (row["generated"], row["real"]) == (
        result.metrics["sample_mean"],
        result.metrics["real_mean"],
    )


def test_image_grid_places_each_image_and_pads_with_white():
    images = np.stack([np.full((1, 2, 2), v) for v in (0.0, 0.5, 1.0)])  # three 2×2 greys
    grid = image_grid(images, (0.0, 1.0), n_columns=2, padding=1)
    assert grid.shape == (5, 5, 3) and grid.dtype == np.uint8
    assert (grid[0:2, 0:2] == 0).all()  # first: black, top left
    assert (grid[0:2, 3:5] == 128).all()  # second: grey, top right
    assert (grid[3:5, 0:2] == 255).all()  # third: white, bottom left
    assert (grid[2, :] == 255).all() and (grid[:, 2] == 255).all()  # padding
    rgb = image_grid(np.array([[[[2.0]], [[0.0]], [[-1.0]]]]), (-1.0, 1.0))
    assert rgb.tolist() == [[[255, 128, 0]]]  # mapped from [-1, 1], clipped, channels last


def test_method_cost_frame_reads_each_familys_cost_table(classifier_bundle):
    classifier_bundle.families["planted"] = planted_family_result()
    classifier_bundle.families["other"] = FamilyResult(
        "other", tables={"attack_cost": [{"method": "pgd", "seconds": 2.5, "budget": 10}]}
    )
    frame = method_cost_frame(classifier_bundle)
    assert list(frame.columns[:4]) == ["family", "method", "seconds", "model_evaluations"]
    assert frame[["family", "method", "seconds"]].to_dict("records") == [
        {
            "family": "planted",
            "method": planted_family_result().tables["cost"][0]["method"],
            "seconds": 0.5,
        },
        {"family": "other", "method": "pgd", "seconds": 2.5},
    ]
    assert pd.isna(frame.loc[1, "model_evaluations"]) and frame.loc[1, "budget"] == 10


def test_method_cost_frame_without_cost_tables_is_empty_with_its_columns(classifier_bundle):
    frame = method_cost_frame(classifier_bundle)
    assert frame.empty and list(frame.columns) == [
        "family",
        "method",
        "seconds",
        "model_evaluations",
    ]
