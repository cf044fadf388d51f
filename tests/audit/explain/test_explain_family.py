"""The explain family end to end on tiny targets: what it saves, its findings, its
invariants (batched equals unbatched, a seed fixes every number), eval-mode LSTMs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.explain.methods import BUILTIN_SPECS as METHODS
from tests.audit.explain.explain_toys import OnlyFeature, case_of, config, explain, tabular

DETERMINISTIC_OR_PER_SAMPLE_SEEDED = {
    "image": ["integrated_gradients", "saliency", "deeplift", "occlusion", "grad_cam", "lime"],
    "tabular": ["integrated_gradients", "feature_ablation", "kernel_shap", "lime"],
    "text": ["integrated_gradients", "occlusion"],
}


@pytest.mark.parametrize("fixture", ["image_target", "tabular_target", "text_target"])
def test_batched_equals_unbatched(fixture, request):
    target = request.getfixturevalue(fixture)
    case = case_of(target, n=5)
    cfg = config(lime_samples=32, kernel_shap_samples=16)
    for name in DETERMINISTIC_OR_PER_SAMPLE_SEEDED[target.modality]:
        spec = METHODS[name]
        target.batch_size = 2  # chunks of two samples, two rows per internal batch
        one = spec.compute(case, case.subject, case.inputs, case.classes, cfg, 0).values
        target.batch_size = 4096
        many = spec.compute(case, case.subject, case.inputs, case.classes, cfg, 0).values
        np.testing.assert_allclose(one, many, atol=1e-5, err_msg=name)


def test_a_fixed_seed_gives_identical_attributions_and_another_seed_does_not(tabular_target):
    # The seed moves the methods' own randomness on the same samples; the sample seed
    # moves which samples are explained.
    methods = ["gradient_shap", "smoothgrad", "kernel_shap", "lime"]
    options = {
        "methods": methods,
        "n_samples": 3,
        "lime_samples": 32,
        "kernel_shap_samples": 16,
        "n_noise_samples": 4,
        "randomisation_stages": 1,
        "n_sensitivity": 1,
        "n_sanity_samples": 2,
        "n_perturbations": 4,
        "permutation_samples": 32,
    }
    first = explain(tabular_target, seed=3, **options)
    again = explain(tabular_target, seed=3, **options)
    other = explain(tabular_target, seed=4, **options)
    for key, value in first.arrays.items():
        np.testing.assert_array_equal(value, again.arrays[key], err_msg=key)
    for row, row_again in zip(first.tables["quality"], again.tables["quality"], strict=True):
        for column in ("faithfulness", "infidelity", "sensitivity", "stability"):
            np.testing.assert_equal(row[column], row_again[column])
    np.testing.assert_array_equal(first.arrays["sample_indices"], other.arrays["sample_indices"])
    assert not np.array_equal(
        first.arrays["attributions_gradient_shap"], other.arrays["attributions_gradient_shap"]
    )
    moved = explain(tabular_target, seed=3, sample_seed=1, **options)
    assert not np.array_equal(first.arrays["sample_indices"], moved.arrays["sample_indices"])


def test_lstm_attribution_works_in_eval_mode(text_target):
    model = text_target.model
    assert not model.training
    case = case_of(text_target, n=6)
    result = METHODS["integrated_gradients"].compute(
        case, case.subject, case.inputs, case.classes, config(n_steps=64), 0
    )
    assert not model.training  # explained as deployed: dropout stays off
    tokens = case.inputs.numpy()
    assert np.isfinite(result.values).all()
    assert (result.values[tokens <= 1] == 0).all()  # padding, and <unk> (the baseline token)
    assert (np.abs(result.values[tokens > 1]) > 0).all()
    assert np.abs(result.gap).max() <= 0.01 * np.abs(result.output_difference).max()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_lstm_attribution_works_in_eval_mode_on_cuda(text_target):
    text_target.to("cuda")
    result = explain(text_target, methods=["integrated_gradients", "occlusion"], n_samples=4)
    assert not text_target.model.training
    assert np.isfinite(result.arrays["attributions_integrated_gradients"]).all()


def test_the_family_saves_maps_inputs_and_a_quality_row_per_method(image_target):
    result = explain(image_target)
    methods = ["integrated_gradients", "saliency", "gradient_shap", "occlusion", "grad_cam"]
    assert [r["method"] for r in result.tables["quality"]] == [*methods, "random"]
    assert result.arrays["inputs"].shape == (16, 1, 8, 8)
    for name in methods:
        assert result.arrays[f"attributions_{name}"].shape == (16, 1, 8, 8)
    indices = result.arrays["sample_indices"]
    np.testing.assert_array_equal(result.arrays["inputs"], image_target.data[indices].numpy())
    row = {r["method"]: r for r in result.tables["quality"]}
    ig = row["integrated_gradients"]
    tried = [16 * 2**k for k in range(8) if 16 * 2**k <= ig["steps"]]  # doubled from n_steps
    assert ig["steps"] == tried[-1] and (ig["completeness_gap"] <= 0.01 or ig["steps"] == 4096)
    assert ig["evaluations"] == 16 * sum(s + 2 for s in tried)  # n × (steps + ends) per try
    assert row["saliency"]["evaluations"] == 16
    assert row["random"]["faithfulness"] < row["integrated_gradients"]["faithfulness"]
    assert {r["method"] for r in result.tables["cost"]} == set(methods)
    for cost in result.tables["cost"]:  # the estimate announced before a run is its cost
        if cost["method"] == "integrated_gradients":  # of its first try: its steps adapt
            assert cost["estimated_evaluations"] == 16 * (16 + 2)
            assert cost["model_evaluations"] == ig["evaluations"]
        else:
            assert cost["model_evaluations"] == cost["estimated_evaluations"], cost["method"]
    checks = {f.check for f in result.findings}
    assert {"randomisation", "faithfulness", "completeness", "stability"} <= checks
    for finding in result.findings:
        assert finding.evidence.view in result.tables


def test_a_model_relying_on_a_sensitive_feature_gets_a_warning(rng):
    X = rng.normal(size=(200, 4)).astype(np.float32)
    sex = np.where(X[:, 1] > 0, "f", "m")
    target = tabular(
        OnlyFeature(1),
        X,
        feature_names=["income", "sex", "hours", "age"],
        sensitive={"sex": sex, "age_band": rng.integers(0, 3, 200)},
    )
    result = explain(target, n_samples=6, randomisation_stages=0)
    shares = {(r["attribute"], r["method"]): r["share"] for r in result.tables["sensitive_share"]}
    assert shares[("sex", "kernel_shap")] == pytest.approx(1.0, abs=1e-3)
    assert shares[("age_band", "kernel_shap")] == pytest.approx(0.0, abs=1e-3)  # age_band → age
    sex = next(f for f in result.findings if f.check == "sensitive_share:sex")
    assert sex.severity == "warn"
    assert sex.message.startswith(
        "The model relies on `sex` for 100% of its attribution (KernelSHAP;"
    )
    importance = {r["feature"]: r for r in result.tables["global_importance"]}
    assert importance["sex"]["sensitive"] and not importance["income"]["sensitive"]
    assert importance["sex"]["permutation"] == pytest.approx(1.0)


def test_integer_coded_categories_are_left_to_perturbation_methods(rng):
    codes = rng.integers(0, 4, 150).astype(np.float32)
    X = np.column_stack([rng.normal(size=150), codes]).astype(np.float32)

    class Lookup(nn.Module):  # embeds the code: no gradient reaches it
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(4, 2)
            self.linear = nn.Linear(1, 2)

        def forward(self, x):
            return self.linear(x[:, :1]) + self.embed(x[:, 1].detach().long())

    target = tabular(Lookup(), X, feature_names=["x", "colour"], categorical_features=["colour"])
    result = explain(
        target, methods=["integrated_gradients", "feature_ablation"], n_samples=5, n_steps=32
    )
    ig = result.arrays["attributions_integrated_gradients"]
    assert np.isnan(ig[:, 1]).all() and np.isfinite(ig[:, 0]).all()
    assert np.isfinite(result.arrays["attributions_feature_ablation"]).all()
    ig_row = next(r for r in result.tables["quality"] if r["method"] == "integrated_gradients")
    assert ig_row["completeness_gap"] < 1e-4  # the held category does not leak into the gap
    assert any("integer-coded categorical features (colour)" in n for n in result.notes)


def test_an_expensive_method_is_announced_and_cut_to_the_budget(rng):
    X = rng.normal(size=(100, 12)).astype(np.float32)  # 4094 coalitions: sampling, not enumeration
    result = explain(
        tabular(nn.Linear(12, 2), X),
        methods=["kernel_shap", "feature_ablation"],
        n_samples=4,
        kernel_shap_samples=256,
        max_evaluations=2_000,
        randomisation_stages=0,
    )
    (row,) = result.tables["budget"]
    assert row["estimated_evaluations"] == 4 * (257 * 8 + 1)
    assert row["action"] == "cut" and row["from"] == 256 and row["to"] < 256
    assert 4 * ((row["to"] + 1) * 8 + 1) <= 2_000
    finding = next(f for f in result.findings if f.check == "budget:kernel_shap")
    assert finding.severity == "warn"
    assert finding.message == (
        f"KernelSHAP would cost about 8,228 model evaluations (budget 2,000): its "
        f"kernel_shap_samples was cut from 256 to {row['to']}, so its attributions are noisier."
    )
    cost = next(r for r in result.tables["cost"] if r["method"] == "kernel_shap")
    assert cost["model_evaluations"] <= 2_000


def test_a_method_without_a_sample_setting_is_skipped_over_budget(image_target):
    # Occlusion: 8 samples × (4 positions of a 7×7 window on 8×8 + the input) = 40.
    result = explain(
        image_target, methods=["occlusion", "saliency"], n_samples=8, max_evaluations=30
    )
    assert [r["method"] for r in result.tables["quality"]] == ["saliency", "random"]
    assert result.tables["budget"][0]["action"] == "skipped"
    assert result.tables["budget"][0]["estimated_evaluations"] == 40


def test_autoencoder_and_generator_targets_are_explained(autoencoder_target, generator_target):
    ae = explain(autoencoder_target, n_samples=4)
    assert ae.arrays["classes"].tolist() == [-1] * 4
    assert ae.arrays["attributions_integrated_gradients"].shape == (4, 6)
    gan = explain(generator_target, n_samples=4, randomisation_stages=1)
    assert gan.arrays["inputs"].shape == (4, 1, 4, 4)
    assert len(gan.tables["latent_sensitivity"]) == 5
    assert gan.arrays["latent_sample_change"].shape == (5,)


def test_latent_sensitivity_finds_an_unused_dimension():
    torch.manual_seed(0)
    linear = nn.Linear(5, 16)
    with torch.no_grad():
        linear.weight[:, 2] = 0.0  # dimension 2 does nothing
    generator = nn.Sequential(linear, nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4)))
    target = da.Target(generator, kind="generator", modality="image", latent_dim=5, device="cpu")
    result = explain(target, n_samples=4)
    change = result.arrays["latent_sample_change"]
    assert change[2] == 0.0 and (np.delete(change, 2) > 0).all()
    finding = next(f for f in result.findings if f.check == "latent_sensitivity")
    assert finding.severity == "warn"
    assert finding.message.startswith(
        "1 of 5 latent dimensions barely change the generated samples"
    )
    assert "discriminator" in result.notes[0]


def test_threads_are_limited_while_the_family_runs_and_restored_after():
    from deepaudit.audit.device import limited_threads

    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with limited_threads(None):
        assert torch.get_num_threads() == before
