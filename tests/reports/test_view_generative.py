"""The generative view shows what the generative audit saved, and only that."""

from __future__ import annotations

import ast
import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

import deepaudit as da
from deepaudit.reports.views import FigureView, TableView, family_section
from deepaudit.reports.views import generative as view
from deepaudit.results import AuditBundle, FamilyResult

FAST = {
    "n_generated": 120,
    "n_real": 100,
    "n_bootstrap": 20,
    "grid_size": 9,
    "n_interpolations": 2,
    "interpolation_steps": 4,
    "n_neighbours_shown": 3,
    "n_bins": 10,
    "n_worst": 4,
    "progress": False,
}


class Affine(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(6, 16)

    def forward(self, z):
        return torch.sigmoid(self.linear(z)).reshape(-1, 1, 4, 4)


def _bundle(target: da.Target, saved_to: Path) -> AuditBundle:
    config = da.AuditConfig(
        families=["generative"], options={"generative": FAST}, progress=False, output_dir=saved_to
    )
    da.run_audit(target, config)
    return da.load_bundle(saved_to)  # the view reads what was saved


@pytest.fixture(scope="module")
def generator_bundle(tmp_path_factory) -> AuditBundle:
    torch.manual_seed(0)
    truth = Affine()
    with torch.no_grad():
        real, train = truth(torch.randn(100, 6)), truth(torch.randn(150, 6))
    labels = (real.mean(dim=(1, 2, 3)) > real.mean()).long().tolist()
    target = da.Target(
        truth, kind="generator", modality="image", latent_dim=6, reference_data=real,
        train_data=train, metadata={"reference_labels": labels}, device="cpu",
    )  # fmt: skip
    return _bundle(target, tmp_path_factory.mktemp("generative") / "gen")


@pytest.fixture(scope="module")
def ae_bundle(tmp_path_factory) -> AuditBundle:
    return _bundle(_planted_rows(), tmp_path_factory.mktemp("generative") / "ae")


def _planted_rows() -> da.Target:
    """An autoencoder that reconstructs columns 'a' and 'c' exactly and 'b' as 0."""
    rng = np.random.default_rng(0)

    class DropColumn(nn.Module):
        def forward(self, x):
            return torch.cat([x[:, :1], torch.zeros_like(x[:, 1:2]), x[:, 2:]], dim=1)

    X = rng.normal(size=(160, 3)).astype(np.float32)
    return da.Target(
        DropColumn(), kind="autoencoder", modality="tabular", data=X[:80], reference_data=X[80:],
        feature_names=["a", "b", "c"], device="cpu",
    )  # fmt: skip


def _png(figure) -> np.ndarray:
    source = figure.data[0].source
    assert source.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def test_generator_section_holds_every_view_and_the_findings_point_at_them(generator_bundle):
    section = family_section(generator_bundle, "generative")
    keys = [item.key for item in section.items]
    for key in (
        "metrics", "fidelity", "fidelity_chart", "coverage_by_class", "coverage_by_class_chart",
        "sample_grid", "interpolations", "uncovered", "diversity", "memorisation",
        "memorisation_histogram", "nearest_neighbours", "nearest_neighbours_table",
    ):  # fmt: skip
        assert key in keys, key
    assert len(set(keys)) == len(keys)
    assert section.title == "Generative audit"
    assert {f.check for f in section.findings} == {
        "fidelity", "coverage", "mode_collapse", "frechet_distance", "memorisation",
    }  # fmt: skip
    for finding in section.findings:
        assert finding.evidence.view in keys, finding.check


def test_tables_show_the_bundles_numbers(generator_bundle):
    result = generator_bundle["generative"]
    section = family_section(generator_bundle, "generative")
    fidelity = section.item("fidelity")
    assert isinstance(fidelity, TableView)
    pd.testing.assert_frame_equal(fidelity.frame, pd.DataFrame(result.tables["fidelity"]))
    pd.testing.assert_frame_equal(
        section.item("nearest_neighbours_table").frame,
        pd.DataFrame(result.tables["nearest_neighbours"]),
    )
    chart = section.item("fidelity_chart").figure
    bars = chart.data[0]
    assert list(bars.x) == ["precision", "recall", "density", "coverage"]
    assert list(bars.y) == [result.metrics[m] for m in bars.x]


def test_sample_grid_is_a_png_of_the_saved_samples(generator_bundle):
    result = generator_bundle["generative"]
    figure = family_section(generator_bundle, "generative").item("sample_grid").figure
    pixels = _png(figure)
    assert pixels.shape == (3 * 4 + 2 * 2, 3 * 4 + 2 * 2, 3)  # 3×3 tiles of 4×4, 2 px apart
    first = np.round(np.clip(result.arrays["sample_grid"][0, 0], 0, 1) * 255)
    np.testing.assert_array_equal(pixels[:4, :4, 0], first)


def test_nearest_neighbours_figure_pairs_generated_with_training_samples(generator_bundle):
    result = generator_bundle["generative"]
    figure = family_section(generator_bundle, "generative").item("nearest_neighbours").figure
    pixels = _png(figure)[..., 0]
    top = np.round(np.clip(result.arrays["neighbour_generated"][0, 0], 0, 1) * 255)
    bottom = np.round(np.clip(result.arrays["neighbour_train"][0, 0], 0, 1) * 255)
    np.testing.assert_array_equal(pixels[:4, :4], top)
    np.testing.assert_array_equal(pixels[6:10, :4], bottom)
    captions = [a.text for a in figure.layout.annotations]
    assert captions == [f"{d:.2f}" for d in result.arrays["neighbour_distances"]]


def test_memorisation_histogram_shows_shares_of_the_saved_counts(generator_bundle):
    result = generator_bundle["generative"]
    figure = family_section(generator_bundle, "generative").item("memorisation_histogram").figure
    generated = np.asarray(figure.data[0].y)
    counts = result.arrays["memorisation_generated_counts"]
    np.testing.assert_allclose(generated, counts / counts.sum())
    assert figure.layout.shapes[0].x0 == result.metrics["copy_threshold"]


def test_autoencoder_section_shows_errors_per_feature_and_worst_samples(ae_bundle):
    result = ae_bundle["generative"]
    section = family_section(ae_bundle, "generative")
    keys = [item.key for item in section.items]
    assert keys == [
        "metrics", "error_distributions", "feature_errors", "feature_errors_chart",
        "worst_samples", "worst_samples_heatmap",
    ]  # fmt: skip
    for finding in section.findings:
        assert finding.evidence.view in keys
    heat = section.item("worst_samples_heatmap").figure.data[0]
    assert list(heat.x) == ["a", "b", "c"]
    z = np.asarray(heat.z)
    np.testing.assert_allclose(z.sum(axis=1), 1.0)
    np.testing.assert_allclose(z[:, 1], 1.0)  # all of the error is the dropped column's
    shares = np.asarray(section.item("error_distributions").figure.data[0].y)
    np.testing.assert_allclose(shares, result.arrays["heldout_counts"] / 80)


def test_generator_rows_that_are_not_images_become_a_table():
    rows = np.arange(12, dtype=np.float32).reshape(4, 3)
    result = FamilyResult("generative", arrays={"sample_grid": rows})
    bundle = AuditBundle(
        target={"kind": "generator"}, provenance={}, config={}, families={"generative": result}
    )
    item = family_section(bundle, "generative").item("sample_grid")
    assert isinstance(item, TableView) and item.frame.to_numpy().tolist() == rows.tolist()
    assert not any(isinstance(i, FigureView) for i in family_section(bundle, "generative").items)


def test_the_view_module_does_not_import_torch():
    tree = ast.parse(Path(view.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "torch" not in imported
