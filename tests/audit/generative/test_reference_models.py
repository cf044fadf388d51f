"""The generative family on the reference ``gan`` and ``autoencoder`` (slow: real models)."""

import numpy as np
import pytest
import torch

import deepaudit as da
from deepaudit.audit.generative import GenerativeConfig
from deepaudit.models import load_model
from tests.audit.generative.generative_toys import CopyGenerator


def _run(target, **options):
    config = da.AuditConfig(
        families=["generative"],
        options={"generative": GenerativeConfig(progress=False, **options)},
        progress=False,
    )
    return da.run_audit(target, config)["generative"]


@pytest.mark.slow
def test_gan_is_compared_in_the_digit_classifiers_feature_space():
    result = _run(load_model("gan"))
    m = result.metrics
    assert m["feature_space"] == "label_model:digit_classifier"
    # Two real samples agree with each other far better than generated and real digits do.
    assert m["baseline_precision"] > 0.9 and m["baseline_coverage"] > 0.9
    assert m["precision"] < m["baseline_precision"]
    assert m["frechet_distance"] > m["baseline_frechet_distance"]
    assert [r["class"] for r in result.tables["coverage_by_class"]] == [str(c) for c in range(10)]
    assert {f.check for f in result.findings} == {
        "fidelity", "coverage", "mode_collapse", "frechet_distance", "memorisation",
    }  # fmt: skip
    assert m["copy_share"] < 0.03  # the DCGAN does not reproduce its training digits
    assert result.arrays["sample_grid"].shape == (64, 1, 28, 28)
    assert len(result.arrays["sample_grid_classes"]) == 64


@pytest.mark.slow
def test_a_generator_returning_training_digits_fails_memorisation():
    gan = load_model("gan")
    copier = da.Target(
        CopyGenerator(gan.train_data),
        kind="generator",
        modality="image",
        latent_dim=gan.latent_dim,
        reference_data=gan.reference_data,
        train_data=gan.train_data,
        label_model=load_model("digit_classifier"),
        device="cpu",
    )
    result = _run(copier, n_bootstrap=50)
    checks = {f.check: f for f in result.findings}
    assert checks["memorisation"].severity == "fail"
    assert result.metrics["copy_share"] == 1.0
    assert (result.arrays["neighbour_distances"] == 0).all()


@pytest.mark.slow
def test_autoencoder_feature_errors_add_up_to_its_anomaly_scores():
    target = load_model("autoencoder")
    result = _run(target)
    ids = result.arrays["worst_ids"]
    np.testing.assert_allclose(
        result.arrays["worst_feature_errors"].sum(axis=1),
        target.reconstruction_error(target.data[ids]),
        rtol=1e-4,
    )
    names = [r["feature"] for r in result.tables["feature_errors"]]
    assert names == list(target.feature_groups)
    # Training and held-out rows come from the same census: their errors match.
    assert {f.check: f.severity for f in result.findings}["error_shift"] == "pass"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_gan_audit_gives_the_same_numbers_on_cuda():
    cpu = _run(load_model("gan", device="cpu"), n_bootstrap=50)
    cuda = _run(load_model("gan", device="cuda"), n_bootstrap=50)
    for name in ("precision", "recall", "density", "coverage", "diversity_ratio", "copy_share"):
        assert cuda.metrics[name] == pytest.approx(cpu.metrics[name], abs=0.02), name
    assert cuda.metrics["frechet_distance"] == pytest.approx(
        cpu.metrics["frechet_distance"], rel=0.02
    )


@pytest.mark.slow
def test_a_generator_of_novel_ones_is_not_flagged_as_copying():
    # Held-out MNIST "1"s lie far closer to their training neighbours than other digits
    # do: a generator that emits only novel "1"s (held-out digits it never trained on)
    # copies nothing, and with per-class thresholds it is not flagged; one pooled
    # threshold flags it.
    gan = load_model("gan")
    labels = np.asarray(gan.metadata["reference_labels"])
    ones = np.flatnonzero(labels == 1)
    bank, rest = (
        ones[: len(ones) // 2],
        np.setdiff1d(np.arange(len(labels)), ones[: len(ones) // 2]),
    )

    def target():
        return da.Target(
            CopyGenerator(gan.reference_data[bank]), kind="generator", modality="image",
            latent_dim=gan.latent_dim, reference_data=gan.reference_data[rest],
            train_data=gan.train_data, label_model=load_model("digit_classifier"),
            device="cpu",
        )  # fmt: skip

    novel = _run(target(), n_bootstrap=20)
    assert novel.metrics["copy_share"] <= 0.03
    assert {f.check: f for f in novel.findings}["memorisation"].severity == "pass"
    pooled = _run(target(), n_bootstrap=20, copy_threshold_by_class=False)
    assert pooled.metrics["copy_share"] > 0.05
