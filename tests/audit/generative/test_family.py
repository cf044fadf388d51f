"""The generative family end to end on toy generators: registration, configuration
errors (exact messages, before any work), findings and reproducibility."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info
from torch import nn

import deepaudit as da
from deepaudit.audit.generative import GenerativeConfig, run_generative
from deepaudit.audit.generative import run as family_module
from deepaudit.audit.generative.features import NO_LABEL_MODEL_MESSAGE
from deepaudit.audit.generative.samples import jump_ratios, slerp
from deepaudit.errors import NotApplicableError, ValidationError
from tests.audit.generative.generative_toys import FAST, CollapsedGenerator, audit, by_check


def test_the_family_is_registered_with_its_config():
    assert "generative" in da.list_families()
    assert isinstance(
        da.AuditConfig(families=["generative"]).options_for("generative"), GenerativeConfig
    )


def test_cross_parameter_errors_are_exact():
    with pytest.raises(ValidationError) as info:
        GenerativeConfig(n_generated=50, n_real=40, k=40)
    assert str(info.value) == (
        "The 'k' parameter of GenerativeConfig must be smaller than n_generated and n_real "
        "(an int in the range [1, 39]). Got 40 instead."
    )
    with pytest.raises(ValidationError) as info:
        GenerativeConfig(fail_precision=0.7)
    assert str(info.value) == (
        "The 'fail_precision' parameter of GenerativeConfig must be at most warn_precision "
        "(0.6). Got 0.7 instead."
    )
    with pytest.raises(ValidationError) as info:
        GenerativeConfig(fail_copy_share=0.01)
    assert str(info.value) == (
        "The 'fail_copy_share' parameter of GenerativeConfig must be at least warn_copy_share "
        "(0.03). Got 0.01 instead."
    )


def test_thorough_raises_every_budget_and_keeps_the_thresholds():
    fast, thorough = GenerativeConfig(), GenerativeConfig.thorough()
    for budget in ("n_generated", "n_real", "n_bootstrap", "n_bootstrap_frechet", "n_errors"):
        assert getattr(thorough, budget) > getattr(fast, budget)
    assert thorough.fail_precision == fast.fail_precision
    assert thorough.fail_copy_share == fast.fail_copy_share


def test_a_classifier_is_refused_before_any_work(tabular_target):
    with pytest.raises(NotApplicableError) as info:
        da.run_audit(tabular_target, da.AuditConfig(families=["generative"], progress=False))
    assert str(info.value) == (
        "The 'generative' audit family does not apply to a classifier target with tabular "
        "data: it audits generators and autoencoders."
    )
    assert tabular_target.n_evaluations == 0


def test_a_generator_without_reference_data_is_refused():
    target = da.Target(
        nn.Linear(3, 4), kind="generator", modality="image", latent_dim=3, device="cpu"
    )
    with pytest.raises(NotApplicableError, match="a generator needs reference_data"):
        da.run_audit(target, da.AuditConfig(families=["generative"], progress=False))


def test_a_missing_label_model_is_refused_before_any_work(toy):
    target = toy.target(toy.truth)
    with pytest.raises(ValidationError) as info:
        audit(target, feature_space="label_model")
    assert str(info.value) == NO_LABEL_MODEL_MESSAGE
    assert target.n_evaluations == 0


def test_a_label_model_without_features_is_refused_for_its_feature_space(toy):
    target = toy.target(toy.truth, label_model=nn.Sequential(nn.Flatten(), nn.Linear(16, 2)))
    with pytest.raises(ValidationError) as info:
        audit(target, feature_space="label_model")
    assert str(info.value) == NO_LABEL_MODEL_MESSAGE
    assert target.n_evaluations == 0
    # "auto" compares samples another way when the label model has no features(x)
    assert audit(target).metrics["feature_space"] == "pixels"


def test_reference_data_of_the_wrong_shape_is_refused(toy):
    target = da.Target(
        toy.truth, kind="generator", modality="image", latent_dim=16,
        reference_data=torch.rand(50, 1, 5, 5), device="cpu",
    )  # fmt: skip
    with pytest.raises(ValidationError) as info:
        audit(target)
    assert str(info.value) == (
        "The 'reference_data' parameter of Target must be samples of the generator's output "
        "shape (1, 4, 4). Got samples of shape (1, 5, 5) instead."
    )


def test_train_data_is_validated_by_the_target(toy):
    bad = toy.train.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValidationError) as info:
        da.Target(toy.truth, kind="generator", modality="image", latent_dim=16, train_data=bad)
    assert str(info.value) == (
        "The 'train_data' parameter of Target must be finite values. "
        "Got NaN or infinite values instead."
    )


def test_same_seed_same_numbers_and_another_seed_other_samples(toy):
    small = {"n_generated": 100, "n_real": 100, "n_bootstrap": 20}
    one = audit(toy.target(toy.truth), seed=3, **small)
    two = audit(toy.target(toy.truth), seed=3, **small)
    assert one.metrics == two.metrics
    assert one.tables == two.tables
    assert one.arrays.keys() == two.arrays.keys()
    for key in one.arrays:
        np.testing.assert_array_equal(one.arrays[key], two.arrays[key])
    # Another seed: the same generated samples, the same intervals (their resamples follow
    # the data); the latent interpolations, drawn with the seed, move.
    reseeded = audit(toy.target(toy.truth), seed=4, **small)
    assert reseeded.tables["fidelity"] == one.tables["fidelity"]
    moved = "interpolation_max_jump_ratio"
    assert reseeded.metrics[moved] != one.metrics[moved]
    assert {k: v for k, v in reseeded.metrics.items() if k != moved} == {
        k: v for k, v in one.metrics.items() if k != moved
    }
    # Another sample seed: other generated and real samples.
    other = audit(toy.target(toy.truth), seed=3, sample_seed=4, **small)
    assert other.metrics["precision"] != one.metrics["precision"]


def test_a_good_generator_passes_everything_and_matches_its_real_baseline(toy):
    result = audit(toy.target(toy.truth))
    assert {f.check: f.severity for f in result.findings} == {
        "fidelity": "pass",
        "coverage": "pass",
        "mode_collapse": "pass",
        "frechet_distance": "pass",
        "memorisation": "pass",
    }
    m = result.metrics
    assert m["feature_space"] == "pixels"
    assert m["frechet_ratio"] == pytest.approx(1.0, abs=0.5)
    assert m["diversity_ratio"] == pytest.approx(1.0, abs=0.05)
    for name in ("precision", "recall", "coverage"):
        assert m[name] == pytest.approx(m[f"baseline_{name}"], abs=0.05)
    rows = {r["metric"]: r for r in result.tables["fidelity"]}
    assert rows["precision"]["interval_low"] <= m["precision"] <= rows["precision"]["interval_high"]
    assert result.arrays["sample_grid"].shape == (16, 1, 4, 4)
    assert result.arrays["interpolations"].shape == (2, 5, 1, 4, 4)


def test_a_collapsed_generator_fails_mode_collapse_and_coverage(toy):
    result = audit(toy.target(CollapsedGenerator(toy.real[0])))
    checks = by_check(result)
    assert checks["mode_collapse"].severity == "fail"
    assert result.metrics["diversity_ratio"] < 0.01
    assert checks["coverage"].severity == "fail"
    assert checks["frechet_distance"].severity == "fail"
    assert checks["coverage"].evidence.view == "fidelity"  # no class labels given


def test_coverage_by_class_finds_the_class_a_generator_misses(rng):
    centres = torch.tensor(rng.normal(size=(4, 16)) * 20, dtype=torch.float32)
    labels = np.repeat(np.arange(4), 100)
    real = (centres[labels] + torch.randn(400, 16)).reshape(-1, 1, 4, 4)

    class ThreeModes(nn.Module):  # never generates class 3
        def forward(self, z):
            mode = (torch.special.ndtr(z[:, 0]) * 3).long().clamp(0, 2)
            return (centres[mode] + z[:, 1:17]).reshape(-1, 1, 4, 4)

    target = da.Target(
        ThreeModes(), kind="generator", modality="image", latent_dim=17, reference_data=real,
        metadata={"reference_labels": labels.tolist()}, device="cpu",
    )  # fmt: skip
    result = audit(target, n_real=400)
    rows = {r["class"]: r for r in result.tables["coverage_by_class"]}
    assert rows["3"]["coverage"] == 0.0 and rows["3"]["recall"] == 0.0
    assert min(rows[c]["coverage"] for c in "012") > 0.8
    finding = by_check(result)["coverage"]
    assert finding.evidence.group == "3" and finding.evidence.view == "coverage_by_class"
    assert "'3'" in finding.message
    uncovered = result.arrays["uncovered_ids"]
    assert (labels[uncovered] == 3).all()  # the samples shown as missed are of class 3


def test_slerp_keeps_its_ends_and_the_norm_of_equal_norm_codes():
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    path = slerp(z0, z1, 5).numpy()
    np.testing.assert_allclose(path[0], [3.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(path[-1], [0.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)
    np.testing.assert_allclose(path[2], [3 / np.sqrt(2), 3 / np.sqrt(2)], rtol=1e-6)


def test_jump_ratio_tells_a_smooth_path_from_a_jump():
    t = np.linspace(0, 1, 10)
    smooth = np.stack([t, 2 * t], axis=1)[None]  # one strip of 10 two-value samples
    jump = np.stack([t > 0.5, t > 0.5], axis=1).astype(float)[None]
    assert jump_ratios(smooth)[0] == pytest.approx(1.0)
    assert jump_ratios(jump)[0] == pytest.approx(9.0)  # all change in one of nine steps


def test_thread_pools_are_limited_during_the_run_and_restored_after(toy, monkeypatch):
    family = family_module
    seen = []
    real_run = family.run_generator

    def spy(target, options, seed):
        seen.append({p["internal_api"]: p["num_threads"] for p in threadpool_info()})
        return real_run(target, options, seed)

    before = {p["internal_api"]: p["num_threads"] for p in threadpool_info()}
    monkeypatch.setattr(family, "run_generator", spy)
    family.run_generative(toy.target(toy.truth), GenerativeConfig(**FAST, n_threads=1), 0)
    assert all(n == 1 for n in seen[0].values())
    assert {p["internal_api"]: p["num_threads"] for p in threadpool_info()} == before
    family.run_generative(toy.target(toy.truth), GenerativeConfig(**FAST, n_threads=None), 0)
    assert seen[1] == before


def test_run_generative_refuses_options_of_another_type(toy):
    with pytest.raises(ValidationError) as info:
        run_generative(toy.target(toy.truth), {"k": 3}, 0)
    assert str(info.value) == (
        "The 'options' parameter of run_generative must be a GenerativeConfig. "
        "Got an object of type dict instead."
    )
