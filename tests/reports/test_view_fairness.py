"""The fairness view: it shows the bundle's numbers, every finding links to its evidence."""

from __future__ import annotations

import ast
import base64
import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import deepaudit as da
import deepaudit.reports.views.fairness as fairness_view
from deepaudit.audit.fairness import FairnessConfig
from deepaudit.reports.render import render_html
from deepaudit.reports.views import FigureView, TableView, family_section

MARKUP = "<img src=x onerror=alert(1)>"


def decode(values) -> np.ndarray:
    """A plotly trace array, plain or typed-array encoded, as numpy."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def _audit(target: da.Target, **options) -> da.AuditBundle:
    config = da.AuditConfig(
        families=["fairness"],
        options={"fairness": FairnessConfig(n_bootstrap=100, **options)},
        progress=False,
    )
    return da.run_audit(target, config)


@pytest.fixture(scope="module")
def classifier_bundle(tmp_path_factory) -> da.AuditBundle:
    """A saved and reloaded audit of a small binary classifier with two attributes."""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    sex = np.where(x[:, 1] > 0, "female", "male").astype(object)
    sex[:40] = MARKUP  # a group label that would run script if rendered unescaped
    target = da.Target(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)),
        modality="tabular",
        data=x,
        labels=(x[:, 0] > 0).astype(np.int64),
        sensitive={"sex": sex, "age": rng.integers(0, 3, 300)},
        class_names=["no", "yes"],
        device="cpu",
    )
    bundle = _audit(target, min_group_size=10, n_thresholds=5)
    return da.load_bundle(bundle.save(tmp_path_factory.mktemp("fairness") / "run"))


def _keys(section) -> list[str]:
    return [item.key for item in section.items]


def _check_links(section) -> None:
    keys = _keys(section)
    assert section.findings
    for found in section.findings:
        assert found.evidence.view in keys, (found.check, found.evidence.view)


def _check_tables(section, result) -> None:
    for item in section.items:
        if isinstance(item, TableView) and item.key in result.tables:
            pd.testing.assert_frame_equal(
                item.frame.reset_index(drop=True), pd.DataFrame(result.tables[item.key])
            )


def test_classifier_section_shows_every_table_and_links_every_finding(classifier_bundle):
    section = family_section(classifier_bundle, "fairness")
    result = classifier_bundle["fairness"]
    assert _keys(section)[:6] == [
        "metrics",
        "group_rates",
        "disparity_intervals",
        "disparity_tests",
        "group_metrics",
        "disparities",
    ]
    assert {"mitigation", "tradeoff", "mitigation_thresholds", "cost"} <= set(_keys(section))
    _check_links(section)
    _check_tables(section, result)
    assert section.findings == result.findings
    assert section.cost == {
        "seconds": result.seconds,
        "model_evaluations": result.model_evaluations,
    }


def test_group_rate_bars_are_the_tables_numbers(classifier_bundle):
    section = family_section(classifier_bundle, "fairness")
    groups = pd.DataFrame(classifier_bundle["fairness"].tables["group_metrics"])
    sex = groups[(groups["grouping"] == "sex") & (groups["group"] != "overall")]
    figure = section.item("group_rates").figure.to_plotly_json()
    bars = [t for t in figure["data"] if t["type"] == "bar"]
    # Rows: sex, age; columns: selection rate, TPR, FPR, precision.
    assert len(bars) == 2 * 4
    first = bars[0]
    assert list(first["x"]) == sex["group"].tolist()
    np.testing.assert_allclose(decode(first["y"]), sex["selection_rate"])
    np.testing.assert_allclose(
        decode(first["error_y"]["array"]), sex["selection_rate_high"] - sex["selection_rate"]
    )


def test_forest_plot_shows_the_tests_values_and_limits(classifier_bundle):
    tests = classifier_bundle["fairness"].tables["disparity_tests"]
    figure = family_section(classifier_bundle, "fairness").item("disparity_intervals").figure
    data = figure.to_plotly_json()["data"]
    points = [t for t in data if t["name"] in ("fail", "inconclusive", "pass")]
    shown = sorted(float(v) for t in points for v in decode(t["x"]))
    assert shown == sorted(r["value"] for r in tests)
    limits = next(t for t in data if t["name"] == "limit")
    assert set(decode(limits["x"]).tolist()) == {r["threshold"] for r in tests}


def test_tradeoff_figure_draws_the_curve_table(classifier_bundle):
    curve = pd.DataFrame(classifier_bundle["fairness"].tables["tradeoff"])
    figure = family_section(classifier_bundle, "fairness").item("tradeoff").figure
    traces = {t["name"]: t for t in figure.to_plotly_json()["data"]}
    sweep = curve[curve["method"] == "global threshold"]
    np.testing.assert_allclose(decode(traces["global threshold"]["y"]), sweep["accuracy"])
    np.testing.assert_allclose(
        decode(traces["global threshold"]["x"]), sweep["demographic_parity_difference"]
    )
    assert "before" in traces


def test_group_labels_are_escaped_in_the_html_report(classifier_bundle):
    html = render_html(classifier_bundle)
    assert MARKUP not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Fairness: for whom does the model fail?" in html


def test_multiclass_rates_show_top_label_accuracy(image_target):
    image_target.sensitive = pd.DataFrame({"shade": np.where(np.arange(30) < 15, "d", "l")})
    bundle = _audit(image_target, min_group_size=5, counterfactual=False)
    section = family_section(bundle, "fairness")
    groups = pd.DataFrame(bundle["fairness"].tables["group_metrics"])
    top = groups[(groups["class"] == "(top label)") & (groups["group"] != "overall")]
    bar = section.item("group_rates").figure.to_plotly_json()["data"][0]
    np.testing.assert_allclose(decode(bar["y"]), top["accuracy"])
    _check_links(section)


class Bag(nn.Module):
    """Text model: logit = sum of token weights; 'muslim' carries a planted weight."""

    def __init__(self, vocab: list[str]) -> None:
        super().__init__()
        self.embedding = nn.Embedding(len(vocab), 1, padding_idx=0)
        with torch.no_grad():
            self.embedding.weight.zero_()
            self.embedding.weight[vocab.index("muslim")] = -2.0

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids).sum(dim=(1, 2))[:, None]


def test_text_section_shows_the_largest_identity_shifts_first():
    vocab = ["<pad>", "<unk>", "muslim", "christian", "jewish", "she", "he", "film"]
    ids = np.array([[5, 7, 0, 0], [6, 7, 0, 0], [2, 7, 0, 0], [7, 0, 0, 0]] * 3)
    target = da.Target(Bag(vocab), modality="text", data=ids, vocab=vocab, device="cpu")
    bundle = _audit(target)
    section = family_section(bundle, "fairness")
    assert {"identity_shifts", "identity_known_pairs", "identity_groups"} <= set(_keys(section))
    pairs = pd.DataFrame(bundle["fairness"].tables["identity_pairs"])
    known = pairs[pairs["in_vocab"]]
    bar = section.item("identity_shifts").figure.to_plotly_json()["data"][0]
    shown = decode(bar["x"])[::-1]  # drawn bottom-up
    np.testing.assert_allclose(
        np.abs(shown), np.sort(np.abs(known["mean_shift"]))[::-1][: len(shown)]
    )
    # pairs with a term outside the vocabulary are listed apart, not drawn
    apart = section.item("identity_pairs_unknown").frame
    assert len(apart) == (~pairs["in_vocab"]).sum() > 0
    assert len(section.item("identity_known_pairs").frame) == len(known)
    _check_links(section)
    _check_tables(section, bundle["fairness"])


def test_autoencoder_section_shows_flag_rates(autoencoder_target):
    autoencoder_target.sensitive = pd.DataFrame({"g": np.where(np.arange(60) % 3, "a", "b")})
    bundle = _audit(autoencoder_target, min_group_size=5)
    section = family_section(bundle, "fairness")
    assert {"flag_rates", "disparity_tests", "anomaly_groups"} <= set(_keys(section))
    groups = pd.DataFrame(bundle["fairness"].tables["anomaly_groups"])
    bar = section.item("flag_rates").figure.to_plotly_json()["data"][0]
    np.testing.assert_allclose(decode(bar["y"]), groups[groups["group"] != "overall"]["flag_rate"])
    _check_links(section)
    _check_tables(section, bundle["fairness"])


class Bank(nn.Module):
    def __init__(self, bank: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("bank", bank)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        index = (torch.sigmoid(z[:, 0]) * len(self.bank)).long().clamp(0, len(self.bank) - 1)
        return self.bank[index]


def test_generator_section_shows_class_shares_and_samples():
    from deepaudit.models import load_model

    digits = load_model("digit_classifier", device="cpu")
    reference = digits.data[torch.from_numpy(np.arange(0, 1000, 4))]
    target = da.Target(
        Bank(reference),
        kind="generator",
        modality="image",
        latent_dim=2,
        reference_data=reference,
        label_model=digits,
        device="cpu",
    )
    bundle = _audit(target, n_generated=200)
    section = family_section(bundle, "fairness")
    assert {"class_share_figure", "class_shares", "generated_samples"} <= set(_keys(section))
    shares = pd.DataFrame(bundle["fairness"].tables["class_shares"])
    generated, reference_bar = section.item("class_share_figure").figure.to_plotly_json()["data"]
    np.testing.assert_allclose(decode(generated["y"]), shares["generated_share"])
    np.testing.assert_allclose(decode(reference_bar["y"]), shares["reference_share"])
    assert isinstance(section.item("generated_samples"), FigureView)
    _check_links(section)


def test_the_view_imports_neither_torch_nor_the_audit_layer():
    tree = ast.parse(inspect.getsource(fairness_view))
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert "deepaudit.reports.views.base" in modules
    assert not [m for m in modules if m.split(".")[0] == "torch" or m.startswith("deepaudit.audit")]
