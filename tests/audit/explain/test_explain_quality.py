"""The quality scores beside every attribution: each against a known answer or an
independent computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from deepaudit.audit.explain import colour, quality, scoring
from deepaudit.audit.explain import grade as findings
from deepaudit.audit.explain.methods import BUILTIN_SPECS as METHODS
from tests.audit.explain.explain_toys import ChannelModel, case_of, config, rgb_target, tabular


def test_rank_agreement_is_spearman_row_by_row(rng):
    a = rng.normal(size=(5, 12))
    b = a + rng.normal(scale=0.7, size=(5, 12))
    expected = [spearmanr(a[i], b[i]).statistic for i in range(5)]
    np.testing.assert_allclose(quality.rank_agreement(a, b), expected, atol=1e-12)
    valid = np.ones((5, 12), dtype=bool)
    valid[:, :4] = False
    expected = [spearmanr(a[i, 4:], b[i, 4:]).statistic for i in range(5)]
    np.testing.assert_allclose(quality.rank_agreement(a, b, valid), expected, atol=1e-12)
    assert np.isnan(quality.rank_agreement(np.ones((1, 4)), a[:1, :4])[0])  # constant map


def test_top_k_overlap_counts_shared_top_features():
    a = np.array([[5.0, -4.0, 3.0, 0.1, 0.0]])
    b = np.array([[0.0, 4.0, 0.2, 5.0, -3.0]])
    # top-2 by magnitude: {0, 1} and {3, 1}: one shared.
    assert quality.top_k_overlap(a, b, 2)[0] == pytest.approx(0.5)
    assert quality.top_k_overlap(a, a, 3)[0] == pytest.approx(1.0)


def test_deletion_and_insertion_curves_of_a_linear_model_follow_by_hand(rng):
    model = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [2.0, -1.0, 0.5]]))
    X = rng.normal(size=(40, 3)).astype(np.float32)
    case = case_of(tabular(model, X), n=4)
    scores = np.tile([[3.0, 1.0, 2.0]], (4, 1))  # removal order: feature 0, 2, 1
    curves = quality.deletion_insertion(case, case.subject, case.inputs, case.classes, scores, 3)
    x = case.inputs.numpy().astype(np.float64)
    b = X.mean(axis=0)
    w = np.array([2.0, -1.0, 0.5])
    classes = case.classes.numpy()

    def prob(z):  # probability of the explained class from the logit of class 1
        p1 = 1 / (1 + np.exp(-z))
        return np.where(classes == 1, p1, 1 - p1)

    deleted = [[], [0], [0, 2], [0, 2, 1]]
    for k, removed in enumerate(deleted):
        xd = x.copy()
        xd[:, removed] = b[removed]
        np.testing.assert_allclose(curves["deletion"][:, k], prob(xd @ w), atol=1e-6)
        xi = np.tile(b, (4, 1))
        xi[:, removed] = x[:, removed]
        np.testing.assert_allclose(curves["insertion"][:, k], prob(xi @ w), atol=1e-6)
    np.testing.assert_allclose(
        curves["deletion_auc"], np.trapezoid(curves["deletion"], dx=1 / 3, axis=1)
    )


def test_padding_is_never_removed_in_text_curves(text_target):
    case = case_of(text_target, n=4)
    scores = np.random.default_rng(0).normal(size=(4, 7))
    curves = quality.deletion_insertion(case, case.subject, case.inputs, case.classes, scores, 2)
    # Fully deleted = every real token replaced by the unknown token: the baseline's output.
    baseline = case.subject.output(case.baselines(case.inputs), case.classes).numpy()
    np.testing.assert_allclose(curves["deletion"][:, -1], baseline, atol=1e-6)
    np.testing.assert_allclose(curves["insertion"][:, 0], baseline, atol=1e-6)


def test_infidelity_is_zero_for_exact_removal_attributions_of_a_linear_model(rng):
    # For a linear model, removing a set of features changes the logit by exactly the sum of
    # their IG attributions w * (x - b): removal infidelity is 0; random maps score worse.
    model = nn.Linear(4, 2)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    case = case_of(tabular(model, X), n=6)
    ig = METHODS["integrated_gradients"].compute(
        case, case.subject, case.inputs, case.classes, config(), 0
    )
    exact = quality.removal_infidelity(
        case, case.subject, case.inputs, case.classes, ig.values, 20, 0, 7
    )
    noise = rng.normal(size=ig.values.shape).astype(np.float32)
    random = quality.removal_infidelity(
        case, case.subject, case.inputs, case.classes, noise, 20, 0, 7
    )
    assert np.abs(exact).max() < 1e-6  # float32 rounding
    assert random.mean() > 1e-3


def test_sensitivity_of_a_linear_model_saliency_is_zero(rng):
    # The gradient of a linear model does not depend on the input.
    X = rng.normal(size=(60, 4)).astype(np.float32)
    case = case_of(tabular(nn.Linear(4, 2), X), n=4)
    value = quality.max_sensitivity(
        case, case.subject, METHODS["saliency"], config(), case.inputs, case.classes, 0
    )
    assert np.abs(value).max() < 1e-6
    ig = quality.max_sensitivity(
        case,
        case.subject,
        METHODS["integrated_gradients"],
        config(sensitivity_radius=0.5),
        case.inputs,
        case.classes,
        0,
    )
    assert ig.min() > 1e-3  # IG multiplies by the input: it moves with it
    single = quality.max_sensitivity(
        case, case.subject, METHODS["kernel_shap"], config(), case.inputs[:1], case.classes[:1], 0
    )
    assert single[0] < 0.5  # one sample: captum keeps its target unexpanded; still handled


def _edge_detector(subject, inputs, classes):
    """A "method" that ignores the model: Sobel edge magnitude of the image."""
    from scipy import ndimage

    images = inputs.numpy().sum(axis=1)
    edges = np.hypot(ndimage.sobel(images, axis=1), ndimage.sobel(images, axis=2))
    return edges.reshape(len(images), -1)


def test_randomisation_check_fails_an_edge_detector_and_passes_integrated_gradients(image_target):
    case = case_of(image_target, n=6)
    cfg = config(randomisation_stages=3)
    spec = METHODS["integrated_gradients"]
    ig = case.space.scores(
        spec.compute(case, case.subject, case.inputs, case.classes, cfg, 0).values
    )
    ig_rows, ig_per_sample = quality.randomisation_test(case, spec, cfg, ig, 6, 0)
    edges = _edge_detector(None, case.inputs, None)
    edge_rows, edge_per_sample = quality.randomisation_test(
        case, spec, cfg, edges, 6, 0, attribute=_edge_detector
    )
    assert [r["layers_randomised"] for r in ig_rows] == [1, 2]  # TinyCNN: head, then conv too
    assert edge_rows[-1]["rank_correlation"] == pytest.approx(1.0)
    assert ig_rows[-1]["rank_correlation"] < 0.5
    # The per-sample values behind the verdict: one per sample, averaged over repeats.
    assert edge_per_sample.shape == ig_per_sample.shape == (6,)
    np.testing.assert_allclose(edge_per_sample, 1.0, atol=1e-6)
    assert ig_per_sample.mean() < 0.5
    ig_mean = scoring.mean_interval(ig_per_sample, 0.95, seed=0)
    verdict = findings.sanity_finding(
        [
            {"method": "edges", "label": "Edge detector", "randomisation": 1.0,
             "randomisation_low": 1.0, "randomisation_high": 1.0},
            {"method": "ig", "label": "IG", "randomisation": ig_mean[0],
             "randomisation_low": ig_mean[1], "randomisation_high": ig_mean[2]},
        ],
        cfg,
    )  # fmt: skip
    assert ig_mean[2] < cfg.max_randomisation_similarity  # IG surely passes
    assert verdict.severity == "fail"
    assert verdict.message.startswith("Edge detector (1.00 [1.00, 1.00]) fails the randomisation")
    assert "IG" not in verdict.message


def test_randomised_copies_leave_the_model_untouched(image_target):
    from deepaudit.audit.explain.subject import randomised_copy

    before = {k: v.clone() for k, v in image_target.model.state_dict().items()}
    copy = randomised_copy(image_target.model, 1, seed=0)
    for key, value in image_target.model.state_dict().items():
        assert torch.equal(value, before[key])
    assert not torch.equal(copy.head.weight, image_target.model.head.weight)
    assert torch.equal(copy.conv.weight, image_target.model.conv.weight)  # only the top layer
    again = randomised_copy(image_target.model, 1, seed=0)
    assert torch.equal(copy.head.weight, again.head.weight)  # seeded


def test_stability_is_one_for_a_deterministic_map_and_lower_for_noisy_gradient_shap(rng):
    X = rng.normal(size=(60, 6)).astype(np.float32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    case = case_of(tabular(model, X), n=4)
    cfg = config(n_noise_samples=1, n_seeds=3)
    spec = METHODS["gradient_shap"]
    one = case.space.scores(
        spec.compute(case, case.subject, case.inputs, case.classes, cfg, 0).values
    )
    noisy = quality.stability_across_seeds(case, spec, cfg, one, 4, 0)
    steady = quality.stability_across_seeds(
        case, METHODS["feature_ablation"], cfg,
        case.space.scores(
            METHODS["feature_ablation"].compute(case, case.subject, case.inputs, case.classes, cfg, 0).values
        ),
        4, 0,
    )  # fmt: skip
    assert noisy.shape == steady.shape == (4,)  # one agreement per sample
    np.testing.assert_allclose(steady, 1.0)
    assert noisy.mean() < 0.95


def test_colour_share_is_zero_for_a_colour_blind_model_and_high_for_a_colour_model():
    torch.manual_seed(0)
    blind = case_of(rgb_target(ChannelModel((1 / 3, 1 / 3, 1 / 3))))
    torch.manual_seed(0)
    colourful = case_of(rgb_target(ChannelModel((1.0, -1.0, 0.0))))
    blind_share = colour.colour_share(colour.colour_attributions(blind, 16))
    colour_share = colour.colour_share(colour.colour_attributions(colourful, 16))
    assert np.nanmax(blind_share) < 1e-5
    assert np.nanmin(colour_share) > 0.95


def test_a_random_order_scores_zero_faithfulness_in_expectation(rng):
    # The insertion curve at k features of a random order is the deletion curve at
    # n - k: their areas agree in expectation, so chance is 0 (what the verdict reads).
    X = rng.normal(size=(60, 6)).astype(np.float32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    case = case_of(tabular(model, X), n=8)
    draws = []
    for _ in range(300):
        scores = case.space.scores(rng.standard_normal(tuple(case.inputs.shape)).astype(np.float32))
        curves = quality.deletion_insertion(
            case, case.subject, case.inputs, case.classes, scores, 10
        )
        draws.append(np.nanmean(curves["insertion_auc"] - curves["deletion_auc"]))
    draws = np.asarray(draws)
    assert abs(draws.mean()) < 3 * draws.std() / np.sqrt(len(draws))
    assert draws.std() > 0  # each order alone is far from 0
