"""Attributions against answers known by hand and the axioms the methods promise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepaudit.audit.explain.methods import BUILTIN_SPECS as METHODS
from deepaudit.audit.explain.methods._lime import segments
from tests.audit.explain.explain_toys import DropFirstFeature, OnlyFeature, case_of, config, tabular

# Attention rollout applies only to attention models and is tested in test_attention.py.
TABULAR_METHODS = [
    n for n, s in METHODS.items() if "tabular" in s.modalities and n != "attention_rollout"
]


def _ig(case, **changes):
    spec = METHODS["integrated_gradients"]
    return spec.compute(case, case.subject, case.inputs, case.classes, config(**changes), 0)


def test_integrated_gradients_is_complete_on_a_small_network(rng, image_target):
    torch.manual_seed(0)
    smooth = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    X = rng.normal(size=(40, 4)).astype(np.float32)
    # Gauss-Legendre is near exact on a smooth path; on ReLU kinks the error falls as 1/n.
    for target, steps, tolerance in ((tabular(smooth, X), 64, 1e-5), (image_target, 256, 5e-3)):
        result = _ig(case_of(target), n_steps=steps)
        assert np.abs(result.output_difference).max() > 0.01
        assert np.abs(result.gap).max() <= tolerance * np.abs(result.output_difference).max()
        # The gap is what it claims: the sum of attributions minus the output difference.
        total = result.values.reshape(len(result.values), -1).sum(axis=1)
        np.testing.assert_allclose(total - result.output_difference, result.gap, atol=1e-6)


def test_integrated_gradients_of_a_linear_model_is_weight_times_input_minus_baseline(rng):
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 3.0], [-1.0, 0.25, 2.0, -0.5]]))
        model.bias.copy_(torch.tensor([0.1, -0.2]))
    X = rng.normal(size=(50, 4)).astype(np.float32)
    case = case_of(tabular(model, X))
    result = _ig(case, n_steps=8)
    baseline = X.mean(axis=0)  # the tabular reference row of numeric columns
    weights = model.weight.detach().numpy()[case.classes.numpy()]
    expected = weights * (case.inputs.numpy() - baseline)
    np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", TABULAR_METHODS)
def test_a_model_that_uses_only_feature_k_gets_k_ranked_first_by_every_method(method, rng):
    k = 2
    X = rng.normal(size=(120, 5)).astype(np.float32)
    case = case_of(tabular(OnlyFeature(k), X), n=6)
    spec = METHODS[method]
    values = spec.compute(case, case.subject, case.inputs, case.classes, config(), 0).values
    scores = np.abs(case.space.scores(values))
    assert (scores.argmax(axis=1) == k).all(), scores
    others = np.delete(scores, k, axis=1)
    assert (scores[:, k] > 3 * others.max(axis=1)).all()


def test_the_reconstruction_error_is_attributed_to_the_feature_it_comes_from(rng):
    X = rng.normal(size=(60, 4)).astype(np.float32)
    target = tabular(DropFirstFeature(), X, kind="autoencoder")
    case = case_of(target)
    result = _ig(case, n_steps=32)
    baseline = X.mean(axis=0)
    x0 = case.inputs.numpy()[:, 0]
    np.testing.assert_allclose(result.values[:, 0], (x0**2 - baseline[0] ** 2) / 4, atol=1e-5)
    np.testing.assert_allclose(result.values[:, 1:], 0.0, atol=1e-7)


def test_kernel_shap_adds_up_over_logical_features_with_a_one_hot_group(rng):
    # Column 0 numeric, columns 1-3 a one-hot "colour"; the model uses both.
    n = 200
    codes = rng.integers(0, 3, n)
    X = np.column_stack([rng.normal(size=n), np.eye(3)[codes]]).astype(np.float32)
    model = nn.Linear(4, 2)
    target = tabular(
        model,
        X,
        feature_names=["x", "colour=red", "colour=green", "colour=blue"],
        categorical_features={"colour": ["colour=red", "colour=green", "colour=blue"]},
    )
    case = case_of(target, n=5)
    assert case.space.names == ["x", "colour"]
    spec = METHODS["kernel_shap"]
    result = spec.compute(case, case.subject, case.inputs, case.classes, config(), 0)
    scores = case.space.scores(result.values)
    assert scores.shape == (5, 2)
    # Efficiency: the values add up to f(x) - E[f(background)] (the k-means summary).
    np.testing.assert_allclose(scores.sum(axis=1), result.output_difference, atol=1e-5)
    # The codec round-trips one-hot rows through category indices.
    np.testing.assert_array_equal(case.codec.decode(case.codec.encode(X)), X)


def test_lime_segments_a_small_image_into_many_superpixels(rng):
    image = np.zeros((28, 28, 3))
    image[6:22, 10:18] = rng.random((16, 8, 3))  # a digit-like blob on black
    for how in ("slic", "felzenszwalb", "grid"):
        seg = segments(image, how, window=7)
        assert seg.shape == (28, 28)
        assert seg.min() == 0 and len(np.unique(seg)) == seg.max() + 1  # contiguous labels
        assert len(np.unique(seg)) >= 8, how  # quickshift would find one segment here
    assert len(np.unique(segments(image, "grid", window=7))) == 16
