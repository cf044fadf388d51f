"""The explain view: maps, tokens and importance drawn from the bundle's numbers, with the
quality table beside them, and every string from the data escaped."""

from __future__ import annotations

import ast
import base64
import inspect

import numpy as np
import pytest
import torch

import deepaudit as da
from deepaudit.reports import render_html
from deepaudit.reports.views import FigureView, TableView, escape, family_section
from deepaudit.reports.views import explain as explain_view_module
from tests.conftest import TinyLSTM
from tests.reports.helpers import PLANTED_FEATURE

FAST = {
    "progress": False,
    "n_samples": 4,
    "n_sanity_samples": 2,
    "randomisation_stages": 1,
    "permutation_samples": 64,
}


def decode(values) -> np.ndarray:
    """A plotly trace array, plain or typed-array encoded, as numpy."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = values.get("shape")
        if shape:
            array = array.reshape([int(s) for s in str(shape).split(",")])
        return array
    return np.asarray(values, dtype=object)


def _bundle(target: da.Target, **options) -> da.AuditBundle:
    config = da.AuditConfig(
        families=["explain"], options={"explain": {**FAST, **options}}, progress=False
    )
    return da.run_audit(target, config)


@pytest.fixture
def planted_text_target(rng) -> da.Target:
    torch.manual_seed(0)
    tokens = rng.integers(1, 6, size=(12, 6))
    tokens[:, 4:] = 0
    tokens[:, 0] = 2  # every text starts with the planted token
    vocab = ["<pad>", "<unk>", PLANTED_FEATURE, "good", "bad", "film"]
    return da.Target(
        TinyLSTM(vocab_size=6), modality="text", data=tokens, vocab=vocab, device="cpu"
    )


def test_every_finding_points_at_a_view_of_the_section(image_target):
    bundle = _bundle(image_target)
    section = family_section(bundle, "explain")
    keys = {view.key for view in section.items}
    assert section.findings and all(f.evidence.view in keys for f in section.findings)
    assert section.cost["model_evaluations"] == bundle["explain"].model_evaluations


def test_image_maps_show_each_samples_input_and_its_maps(image_target):
    bundle = _bundle(image_target)
    result = bundle["explain"]
    section = family_section(bundle, "explain")
    assert [v.key for v in section.items][:4] == ["about", "quality", "maps", "curves"]
    quality = section.item("quality").frame
    rows = result.tables["quality"]
    assert list(quality["method"]) == [r["label"] for r in rows]
    np.testing.assert_allclose(
        quality["faithfulness (insertion − deletion)"], [r["faithfulness"] for r in rows]
    )
    figure = section.item("maps").figure.to_plotly_json()
    methods = [r["method"] for r in rows if r["method"] != "random"]
    traces = figure["data"]
    assert len(traces) == 4 * (1 + len(methods))
    # Row 2 (sample 1): the input, then each method's map summed over channels.
    row = traces[1 + len(methods) : 2 * (1 + len(methods))]
    assert row[0]["type"] == "image"
    for trace, method in zip(row[1:], methods, strict=True):
        expected = result.arrays[f"attributions_{method}"][1].sum(axis=0)
        np.testing.assert_allclose(decode(trace["customdata"]), expected, rtol=1e-6, atol=1e-7)
        # drawn on one colour scale: each map over its own largest |value|
        z = decode(trace["z"])
        np.testing.assert_allclose(z, expected / np.abs(expected).max(), rtol=1e-6, atol=1e-7)
        assert trace["zmin"] == -1 and trace["zmax"] == 1
    assert sum(t.get("showscale", False) for t in traces) == 1  # one colour scale, labelled


def test_tokens_are_drawn_escaped_with_their_attributions(planted_text_target):
    bundle = _bundle(planted_text_target)
    result = bundle["explain"]
    section = family_section(bundle, "explain")
    figure = section.item("tokens-integrated_gradients").figure.to_plotly_json()
    trace = figure["data"][0]
    text = [t for row in trace["text"] for t in row]
    assert PLANTED_FEATURE not in text
    assert escape(PLANTED_FEATURE) in text  # plotly shows it as written
    values = result.arrays["attributions_integrated_gradients"][:, :4]
    np.testing.assert_allclose(decode(trace["customdata"]).astype(float), values, atol=1e-7)
    top = section.item("top_tokens").frame
    first = top[(top["sample"] == 0) & (top["method"] == "Integrated Gradients")]["top tokens"]
    best = int(np.argmax(values[0]))
    assert first.iloc[0].startswith(str(result.arrays["tokens"][0][best]))


def test_importance_beyond_twenty_features_is_summed_into_one_bar():
    import pandas as pd

    from deepaudit.reports.views.explain import MAX_FEATURES_SHOWN, top_importance

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"feature": [f"f{i}" for i in range(61)], "ig": rng.random(61)})
    frame["ig"] /= frame["ig"].sum()
    shown = top_importance(frame, ["ig"])
    assert len(shown) == MAX_FEATURES_SHOWN + 1 == 21
    assert shown["feature"].iloc[-1] == "other (41 features)"
    assert list(shown["ig"].iloc[:-1]) == sorted(frame["ig"], reverse=True)[:20]
    assert shown["ig"].sum() == pytest.approx(1.0)  # nothing lost: the rest is summed


def test_tabular_importance_bars_equal_the_global_importance_table(tabular_target):
    bundle = _bundle(tabular_target)
    result = bundle["explain"]
    section = family_section(bundle, "explain")
    table = result.tables["global_importance"]
    bars = section.item("importance").figure.to_plotly_json()["data"]
    names = [t["name"] for t in bars]
    assert names == [
        "Integrated Gradients",
        "GradientSHAP",
        "Feature ablation",
        "KernelSHAP",
        "Permutation importance",
    ]
    columns = ["integrated_gradients", "gradient_shap", "feature_ablation", "kernel_shap"]
    columns.append("permutation")
    # drawn most important first (mean share over the methods)
    mean = [np.nanmean([r[c] for c in columns]) for r in table]
    order = np.argsort(-np.asarray(mean), kind="stable")
    assert list(bars[0]["y"]) == [table[i]["feature"] for i in order]
    for trace, column in zip(bars, columns, strict=True):
        np.testing.assert_allclose(
            decode(trace["x"]).astype(float), [table[i][column] for i in order]
        )
    quality = [r for r in result.tables["quality"] if r["method"] != "random"]
    best = max(quality, key=lambda r: r["faithfulness"])["method"]
    heat = section.item("feature_map").figure.to_plotly_json()["data"][0]
    np.testing.assert_allclose(
        decode(heat["z"]).astype(float), result.arrays[f"attributions_{best}"]
    )
    assert list(heat["x"]) == ["income", "hours", "age", "edu"]


def test_generator_section_shows_latent_sensitivity(generator_target):
    bundle = _bundle(generator_target)
    section = family_section(bundle, "explain")
    bars = section.item("latent").figure.to_plotly_json()["data"][0]
    expected = [r["sample_change"] for r in bundle["explain"].tables["latent_sensitivity"]]
    np.testing.assert_allclose(decode(bars["y"]).astype(float), expected)
    assert isinstance(section.item("latent_sensitivity"), TableView)


def test_a_saved_bundle_renders_the_same_section_and_a_safe_report(planted_text_target, tmp_path):
    bundle = _bundle(planted_text_target)
    loaded = da.load_bundle(bundle.save(tmp_path / "run"))
    before = family_section(bundle, "explain")
    after = family_section(loaded, "explain")
    assert [v.key for v in before.items] == [v.key for v in after.items]
    for a, b in zip(before.items, after.items, strict=True):
        if isinstance(a, TableView):
            assert a.frame.equals(b.frame), a.key
        if isinstance(a, FigureView):
            assert a.figure.to_json() == b.figure.to_json(), a.key
    html = render_html(loaded)
    assert PLANTED_FEATURE not in html
    assert len(html.encode()) < 6_000_000


def test_the_view_does_not_import_torch():
    tree = ast.parse(inspect.getsource(explain_view_module))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "torch" not in imported and "deepaudit" in imported
    assert not any(name.startswith("deepaudit.audit") for name in _modules(tree))


def _modules(tree) -> list[str]:
    return [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]


def test_large_maps_are_drawn_as_block_means_and_small_ones_as_they_are():
    from deepaudit.reports.views.explain import block_means

    small = np.arange(12.0).reshape(3, 4)
    kept, f = block_means(small, side=4)
    assert f == 1 and kept is small
    shown, f = block_means(np.arange(25.0).reshape(5, 5), side=2)
    assert f == 3  # the smallest block that fits 5 pixels into 2 cells
    # edge blocks average only the pixels they hold
    expected = [[np.mean([0, 1, 2, 5, 6, 7, 10, 11, 12]), np.mean([3, 4, 8, 9, 13, 14])],
                [np.mean([15, 16, 17, 20, 21, 22]), np.mean([18, 19, 23, 24])]]  # fmt: skip
    np.testing.assert_allclose(shown, expected)
