"""Autoencoders: per-feature reconstruction errors add up to the anomaly score, and the
audit finds a planted faulty feature and a shift between held-out and reference data."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

import deepaudit as da
from deepaudit.audit.generative import feature_contributions
from deepaudit.audit.generative.reconstruction import feature_groups
from deepaudit.errors import NotApplicableError
from tests.audit.generative.generative_toys import audit, by_check


def test_contributions_add_up_to_the_targets_reconstruction_error(autoencoder_target):
    x = autoencoder_target.data.numpy()
    groups = feature_groups(autoencoder_target)
    parts = feature_contributions(x, autoencoder_target.reconstruct(x), groups)
    np.testing.assert_allclose(
        parts.sum(axis=1), autoencoder_target.reconstruction_error(x), rtol=1e-5
    )


def test_one_hot_columns_form_one_feature(rng):
    X = np.column_stack([rng.normal(size=100), np.eye(3)[rng.integers(0, 3, 100)]]).astype(
        np.float32
    )
    target = da.Target(
        nn.Linear(4, 4), kind="autoencoder", modality="tabular", data=X,
        feature_names=["income", "c_red", "c_green", "c_blue"],
        categorical_features={"colour": ["c_red", "c_green", "c_blue"]}, device="cpu",
    )  # fmt: skip
    result = audit(target)
    rows = {r["feature"]: r for r in result.tables["feature_errors"]}
    assert set(rows) == {"income", "colour"} and rows["colour"]["n_columns"] == 3
    recon = target.reconstruct(X)
    expected = ((recon[:, 1:] - X[:, 1:]) ** 2).sum(axis=1).mean() / 4
    assert rows["colour"]["heldout_mean_error"] == pytest.approx(expected, rel=1e-5)


def test_a_planted_faulty_feature_is_named_as_the_source_of_the_anomalies(planted_autoencoder):
    result = audit(planted_autoencoder)
    rows = {r["feature"]: r for r in result.tables["feature_errors"]}
    assert rows["x2"]["heldout_share"] == 1.0 and rows["x2"]["flagged_share"] == 1.0
    assert all(rows[f]["heldout_mean_error"] == 0 for f in ("x0", "x1", "x3", "x4"))
    finding = by_check(result)["anomaly_drivers"]
    assert finding.severity == "warn"
    assert finding.evidence.group == "x2" and finding.evidence.view == "feature_errors"
    # The worst samples are those with the largest |x2|; all of their error is x2's.
    x2 = planted_autoencoder.data[:, 2].numpy()
    np.testing.assert_array_equal(result.arrays["worst_ids"], np.argsort(-np.abs(x2))[:10])
    assert all(r["feature_1"] == "x2 (100%)" for r in result.tables["worst_samples"])


def test_error_shift_fails_when_held_out_data_is_reconstructed_worse(planted_autoencoder):
    same = audit(planted_autoencoder)
    assert by_check(same)["error_shift"].severity == "pass"
    shifted = da.Target(
        planted_autoencoder.model, kind="autoencoder", modality="tabular",
        data=planted_autoencoder.data * 3, reference_data=planted_autoencoder.reference_data,
        device="cpu",
    )  # fmt: skip
    result = audit(shifted)
    finding = by_check(result)["error_shift"]
    assert finding.severity == "fail"
    held, ref = result.arrays["heldout_errors"], result.arrays["reference_errors"]
    assert result.metrics["error_shift_ks"] == pytest.approx(stats.ks_2samp(held, ref).statistic)
    assert finding.evidence.view == "error_distributions"
    assert by_check(result)["feature_generalisation"].severity == "warn"  # x2: 9× its error


def test_histograms_count_every_sample_on_shared_edges(planted_autoencoder):
    result = audit(planted_autoencoder, n_bins=20)
    a = result.arrays
    assert a["error_edges"].shape == (21,)
    assert a["heldout_counts"].sum() == 200 and a["reference_counts"].sum() == 200
    assert a["error_edges"][0] == min(a["heldout_errors"].min(), a["reference_errors"].min())


def test_image_autoencoder_errors_per_channel_and_pixel(rng):
    class DropChannel(nn.Module):  # loses channel 1 and the top-left pixel of channel 0
        def forward(self, x):
            out = x.clone()
            out[:, 1] = 0
            out[:, 0, 0, 0] = 0
            return out

    X = rng.random(size=(60, 2, 3, 3)).astype(np.float32)
    target = da.Target(DropChannel(), kind="autoencoder", modality="image", data=X, device="cpu")
    result = audit(target, n_worst=3)
    rows = {r["feature"]: r for r in result.tables["feature_errors"]}
    assert rows["channel 1"]["heldout_share"] > 0.85
    expected = (
        (X[:, 1] ** 2).mean(axis=0) + np.pad([[(X[:, 0, 0, 0] ** 2).mean()]], ((0, 2), (0, 2)))
    ) / 2
    np.testing.assert_allclose(result.arrays["pixel_error_map"], expected, rtol=1e-5)


def test_text_autoencoders_are_not_audited(rng):
    target = da.Target(
        nn.Identity(), kind="autoencoder", modality="text", data=rng.integers(1, 5, (10, 4)),
        vocab=["<pad>", "a", "b", "c", "d"], device="cpu",
    )  # fmt: skip
    with pytest.raises(NotApplicableError) as info:
        da.run_audit(target, da.AuditConfig(families=["generative"], progress=False))
    assert str(info.value) == (
        "The 'generative' audit family does not apply to an autoencoder target with text data: "
        "distances and reconstruction errors between token ids are not meaningful."
    )


def test_same_seed_same_subset_of_a_large_dataset(rng):
    X = rng.normal(size=(300, 3)).astype(np.float32)
    target = da.Target(
        nn.Linear(3, 3), kind="autoencoder", modality="tabular", data=X, device="cpu"
    )
    torch.manual_seed(0)
    one, two = audit(target, n_errors=50, seed=1), audit(target, n_errors=50, seed=1)
    np.testing.assert_array_equal(one.arrays["heldout_ids"], two.arrays["heldout_ids"])
    assert len(one.arrays["heldout_ids"]) == 50
    other = audit(target, n_errors=50, seed=1, sample_seed=2)  # the rows are the data's
    assert not np.array_equal(one.arrays["heldout_ids"], other.arrays["heldout_ids"])
