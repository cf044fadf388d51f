"""The robustness view shows what the robustness audit saved, and only that."""

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

import deepaudit as da
from deepaudit.reports.views import FigureView, TableView, family_section
from deepaudit.reports.views import robustness as view
from deepaudit.results import AuditBundle

FAST = {"progress": False, "n_bootstrap": 30, "n_samples": 40, "natural_samples": 40}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one intra-op thread is faster and immune to a busy shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _bundle(target: da.Target, folder: Path, **options) -> AuditBundle:
    config = da.AuditConfig(
        families=["robustness"],
        options={"robustness": FAST | options},
        progress=False,
        output_dir=folder,
    )
    da.run_audit(target, config)
    return da.load_bundle(folder)  # the view reads what was saved


@pytest.fixture(scope="module")
def tabular_bundle(tmp_path_factory) -> AuditBundle:
    from tests.conftest import tabular_target

    target = tabular_target.__wrapped__(np.random.default_rng(0))
    return _bundle(
        target, tmp_path_factory.mktemp("robustness") / "tab", norms=("Linf", "L2"), every_row=True
    )


@pytest.fixture(scope="module")
def image_bundle(tmp_path_factory) -> AuditBundle:
    from tests.conftest import image_target

    target = image_target.__wrapped__(np.random.default_rng(0))
    return _bundle(target, tmp_path_factory.mktemp("robustness") / "img", epsilons=(0.02, 0.1))


def _png(figure) -> np.ndarray:
    source = figure.data[0].source
    assert source.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def test_the_section_holds_every_view_and_the_findings_point_at_them(tabular_bundle):
    section = family_section(tabular_bundle, "robustness")
    keys = [item.key for item in section.items]
    for key in (
        "metrics", "curve_plot", "curve_plot_sex", "curve_plot_age", "flip_plot",
        "natural_plot", "curve", "clean_accuracy", "flip_epsilon", "group_gaps", "natural",
        "sanity", "examples", "every_row_plot", "every_row_robust_accuracy",
    ):  # fmt: skip
        assert key in keys, key
    assert len(set(keys)) == len(keys)
    assert section.title == "Robustness"
    assert section.findings == tabular_bundle["robustness"].findings
    for finding in section.findings:
        assert finding.evidence.view in keys, finding.check


def test_tables_show_the_bundles_numbers(tabular_bundle):
    result = tabular_bundle["robustness"]
    section = family_section(tabular_bundle, "robustness")
    for key in ("curve", "flip_epsilon", "group_gaps", "sanity", "every_row_robust_accuracy"):
        item = section.item(key)
        assert isinstance(item, TableView)
        pd.testing.assert_frame_equal(item.frame, pd.DataFrame(result.tables[key]))
    examples = section.item("examples").frame
    assert "label_index" not in examples.columns  # the indices are for the arrays, not readers
    assert list(examples["sample_id"]) == [r["sample_id"] for r in result.tables["examples"]]


def test_the_curve_plots_the_saved_accuracies_with_their_intervals(tabular_bundle):
    result = tabular_bundle["robustness"]
    figure = family_section(tabular_bundle, "robustness").item("curve_plot").figure
    names = [trace.name for trace in figure.data]
    assert names == ["PGD L∞", "FGSM L∞", "PGD L2"]
    rows = [
        r
        for r in result.tables["curve"]
        if (r["attack"], r["norm"], r["attribute"]) == ("PGD", "L2", "overall")
    ]
    trace = figure.data[2]
    assert list(trace.x) == [r["epsilon"] for r in rows]
    assert list(trace.y) == [r["accuracy"] for r in rows]
    np.testing.assert_allclose(trace.error_y.array, [r["ci_high"] - r["accuracy"] for r in rows])
    by_sex = family_section(tabular_bundle, "robustness").item("curve_plot_sex").figure
    assert sorted(t.name for t in by_sex.data) == [
        "PGD L2 · female", "PGD L2 · male", "PGD L∞ · female", "PGD L∞ · male",
    ]  # fmt: skip


def test_the_every_row_plot_shows_overall_and_the_first_attributes_groups(tabular_bundle):
    result = tabular_bundle["robustness"]
    rows = result.tables["every_row_robust_accuracy"]
    assert {r["attribute"] for r in rows} == {"overall", "sex", "age"}
    figure = family_section(tabular_bundle, "robustness").item("every_row_plot").figure
    assert [t.name for t in figure.data] == ["overall", "sex=female", "sex=male"]
    assert figure.layout.legend.title.text == "sex"
    for trace, (attribute, group) in zip(
        figure.data, [("overall", "all"), ("sex", "female"), ("sex", "male")], strict=True
    ):
        part = [r for r in rows if (r["attribute"], r["group"]) == (attribute, group)]
        assert list(trace.x) == [r["eps"] for r in part]
        assert list(trace.y) == [r["robust_accuracy"] for r in part]
        np.testing.assert_allclose(
            trace.error_y.arrayminus, [r["robust_accuracy"] - r["low"] for r in part]
        )
    assert result.metrics["every_row_n"] == 200


def test_the_every_row_plot_escapes_names_from_data():
    table = pd.DataFrame(
        [
            {"attribute": a, "group": g, "eps": e, "robust_accuracy": 0.5, "low": 0.4, "high": 0.6}
            for a, g in [("overall", "all"), ("<i>x</i>", '"a"&b')]
            for e in (0.1, 0.2)
        ]
    )
    figure = view.every_row_figure(table)
    assert [t.name for t in figure.data] == ["overall", "&lt;i&gt;x&lt;/i&gt;=&#34;a&#34;&amp;b"]
    assert figure.layout.legend.title.text == "&lt;i&gt;x&lt;/i&gt;"


def test_image_examples_show_original_adversarial_and_perturbation(image_bundle):
    result = image_bundle["robustness"]
    figure = family_section(image_bundle, "robustness").item("examples_plot").figure
    assert isinstance(family_section(image_bundle, "robustness").item("examples_plot"), FigureView)
    pixels = _png(figure)
    n = len(result.arrays["examples_original"])
    band = view._CAPTION_BAND  # a white caption band above each tile: no label on an image
    assert pixels.shape == (n * (band + 8) + (n - 1) * 2, 3 * 8 + 2 * 2, 3)  # 3 tiles of 8×8
    assert (pixels[:band] == 255).all()
    pixels = pixels[band:]
    # drawn at least MIN_TILE_PX tall per tile
    assert figure.layout.height >= (band + 8) * n * view.MIN_TILE_PX / 8
    original = result.arrays["examples_original"][0, 0]
    adversarial = result.arrays["examples_adversarial"][0, 0]
    lo, hi = view._value_range(
        image_bundle,
        np.concatenate([result.arrays["examples_original"], result.arrays["examples_adversarial"]]),
    )
    expected = np.round(np.clip((original - lo) / (hi - lo), 0, 1) * 255)
    np.testing.assert_array_equal(pixels[:8, :8, 0], expected)
    delta = pixels[:8, 20:28, 0].astype(int)  # third tile: mid-grey where nothing changed
    unchanged = original == adversarial
    assert np.all(np.abs(delta[unchanged] - 128) <= 1)
    assert np.abs(delta - 128).max() >= 126  # each row's perturbation fills the range
    row = result.tables["examples"][0]
    captions = [a.text for a in figure.layout.annotations][:3]
    assert captions == [row["before"], row["after"], f"ε={row['epsilon']:.3g}"]


def test_autoencoder_and_generator_sections_render(autoencoder_target, generator_target, tmp_path):
    ae = family_section(_bundle(autoencoder_target, tmp_path / "ae"), "robustness")
    keys = [i.key for i in ae.items]
    assert {"curve_plot", "curve", "score_shift", "flip_epsilon", "sanity"} <= set(keys)
    assert [t.name for t in ae.item("curve_plot").figure.data] == [
        "hide anomaly: PGD L∞", "flag normal: PGD L∞",
    ]  # fmt: skip
    for finding in ae.findings:
        assert finding.evidence.view in keys
    gen = family_section(
        _bundle(generator_target, tmp_path / "gen", latent_samples=10), "robustness"
    )
    keys = [i.key for i in gen.items]
    assert {"latent_plot", "latent_stability", "curve_plot_source"} <= set(keys)
    for finding in gen.findings:
        assert finding.evidence.view in keys


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
