"""Generators: class coverage against the reference data. Autoencoders: flag rates by group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import ValidationError
from deepaudit.models import load_model
from tests.audit.fairness.fairness_toys import audit, finding


class BankGenerator(nn.Module):
    """'Generates' by picking real images from a bank with the first latent coordinate."""

    def __init__(self, bank: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("bank", bank)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1 + torch.erf(z[:, 0] / 2**0.5))
        index = (u * len(self.bank)).long().clamp(0, len(self.bank) - 1)
        return self.bank[index]


@pytest.fixture(scope="module")
def real_digits():
    digits = load_model("digit_classifier", device="cpu")
    keep = np.random.default_rng(0).permutation(digits.n_samples)[:400]  # every class
    return digits.data[torch.from_numpy(keep)], digits.labels[keep]


def bank_target(bank: torch.Tensor, reference: torch.Tensor) -> da.Target:
    return da.Target(
        BankGenerator(bank),
        kind="generator",
        modality="image",
        latent_dim=4,
        reference_data=reference,
        label_model=load_model("digit_classifier", device="cpu"),
        device="cpu",
    )


def test_a_generator_missing_a_class_is_caught_and_the_class_named(real_digits):
    images, labels = real_digits
    bank = images[torch.from_numpy(labels != 3)]
    bundle = audit(bank_target(bank, images), n_bootstrap=300, n_generated=400)
    result = bundle["fairness"]
    coverage = finding(bundle, "class_coverage")
    assert coverage.severity == "fail"
    assert coverage.evidence.group == "3"
    assert coverage.message.startswith("Under-represented classes: '3'.")
    assert result.metrics["under_represented"] == ["3"]
    assert result.metrics["chi2_p_value"] < 1e-4
    shares = pd.DataFrame(result.tables["class_shares"]).set_index("class")
    assert shares.loc["3", "share_ratio_high"] < 0.8


def test_a_generator_drawing_from_the_real_data_is_not_failed(real_digits):
    images, _ = real_digits
    bundle = audit(bank_target(images, images), n_bootstrap=300, n_generated=800)
    result = bundle["fairness"]
    assert result.metrics["under_represented"] == []
    assert finding(bundle, "class_coverage").severity != "fail"
    assert result.metrics["chi2_p_value"] > 0.001
    shares = pd.DataFrame(result.tables["class_shares"])
    assert shares["generated"].sum() == 800 and shares["reference"].sum() == 400


def test_a_label_model_named_by_a_string_is_refused_where_the_target_is_made(real_digits):
    images, _ = real_digits
    with pytest.raises(ValidationError) as info:
        da.Target(
            BankGenerator(images),
            kind="generator",
            modality="image",
            latent_dim=4,
            reference_data=images,
            label_model="digit_classifier",
            device="cpu",
        )
    assert str(info.value) == (
        "The 'label_model' parameter of Target must be None or a torch.nn.Module or a "
        "function returning logits, or a classifier Target "
        "(e.g. deepaudit.models.load_model('digit_classifier')). Got 'digit_classifier' instead."
    )


def test_a_label_model_name_in_metadata_says_how_to_pass_the_model(real_digits):
    images, _ = real_digits
    with pytest.raises(ValidationError, match=r"pass the classifier itself: Target\(label_model="):
        da.Target(
            BankGenerator(images),
            kind="generator",
            modality="image",
            latent_dim=4,
            metadata={"label_model": "digit_classifier"},
            device="cpu",
        )


def anomaly_target(scale_b: float, n: int = 2000) -> da.Target:
    """A 'model' reconstructing zeros: the error of a sample is its mean squared value."""
    rng = np.random.default_rng(0)
    group = rng.choice(np.array(["a", "b"]), n)
    x = rng.normal(size=(n, 6)) * np.where(group == "b", scale_b, 1.0)[:, None]
    model = nn.Linear(6, 6)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return da.Target(
        model,
        kind="autoencoder",
        modality="tabular",
        data=x.astype(np.float32),
        sensitive={"group": group},
        anomaly_threshold=2.0,
        device="cpu",
    )


def test_an_autoencoder_flagging_one_group_more_fails_the_ratio():
    bundle = audit(anomaly_target(scale_b=1.5), n_bootstrap=300)
    result = bundle["fairness"]
    ratio = finding(bundle, "flag_rate_ratio")
    assert ratio.severity == "fail" and ratio.evidence.interval[1] < 0.8
    groups = pd.DataFrame(result.tables["anomaly_groups"]).set_index("group")
    x = anomaly_target(scale_b=1.5)
    errors = (x.data.numpy() ** 2).mean(1)
    is_b = x.sensitive["group"].to_numpy() == "b"
    assert groups.loc["b", "flag_rate"] == pytest.approx(np.mean(errors[is_b] > 2.0))
    assert groups.loc["a", "mean_error"] == pytest.approx(errors[~is_b].mean(), rel=1e-6)
    assert (
        groups.loc["b", "flag_rate_low"]
        < groups.loc["b", "flag_rate"]
        < groups.loc["b", "flag_rate_high"]
    )


def test_an_autoencoder_blind_to_the_group_does_not_fail():
    bundle = audit(anomaly_target(scale_b=1.0), n_bootstrap=300)
    assert finding(bundle, "flag_rate_ratio").severity != "fail"
    assert finding(bundle, "flag_rate_parity").severity == "pass"


def test_a_function_works_as_the_label_model_and_is_named_by_it(real_digits):
    images, _ = real_digits
    digits = load_model("digit_classifier", device="cpu")

    def read_digits(x):
        return digits.model(x)

    target = da.Target(
        BankGenerator(images),
        kind="generator",
        modality="image",
        latent_dim=4,
        reference_data=images,
        label_model=read_digits,
        device="cpu",
    )
    module_based = bank_target(images, images)
    by_function = audit(target, n_bootstrap=50, n_generated=200)["fairness"]
    by_module = audit(module_based, n_bootstrap=50, n_generated=200)["fairness"]
    assert by_function.metrics["label_model"] == "read_digits"
    shares = [r["generated"] for r in by_function.tables["class_shares"]]
    assert shares == [r["generated"] for r in by_module.tables["class_shares"]]
