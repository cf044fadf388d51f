"""Every registered model loads from its shipped checkpoint and meets its floors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deepaudit.audit.target import Target
from deepaudit.models import get_model_spec, list_models, model_card
from deepaudit.models.checkpoints import checkpoint_paths, sha256_file
from deepaudit.models.datasets import digits
from deepaudit.models.registry import get_recipe


@pytest.mark.parametrize("name", list_models())
def test_checkpoint_hash_matches_manifest(name):
    weights, manifest_path = checkpoint_paths(name)
    manifest = json.loads(manifest_path.read_text())
    assert sha256_file(weights) == manifest["sha256"]
    assert weights.stat().st_size == manifest["size_bytes"] < 5_000_000
    for key in (
        "seed",
        "data_sha256",
        "metrics",
        "device",
        "torch_version",
        "deepaudit_version",
        "train_seconds",
        "seconds_per_epoch",
        "model_kwargs",
        "preprocessing",
    ):
        assert key in manifest, key


@pytest.mark.parametrize("name", list_models())
def test_model_loads_as_a_ready_target(name, loaded_models):
    target = loaded_models(name)
    spec = get_model_spec(name)
    assert isinstance(target, Target)
    assert (target.kind, target.modality, target.name) == (spec.kind, spec.modality, name)
    assert target.metadata["zoo_name"] == name
    assert target.metadata["model_card"].startswith(f"# Model card: `{name}`")
    assert not target.model.training
    if spec.kind != "generator":
        assert target.n_samples > 0
    for attribute in spec.sensitive:
        if spec.kind != "generator":
            assert attribute in target.sensitive_names


@pytest.mark.parametrize("name", list_models())
def test_quality_floors_are_met_on_fresh_evaluation(name, loaded_models):
    target = loaded_models(name)
    metrics = get_recipe(name).evaluate(target)
    for floor in get_model_spec(name).floors:
        assert floor.is_met(metrics[floor.metric]), (
            f"{name}: {floor} but got {metrics[floor.metric]}"
        )


@pytest.mark.parametrize("name", list_models())
def test_fresh_metrics_reproduce_the_manifest(name, loaded_models):
    target = loaded_models(name)
    metrics = get_recipe(name).evaluate(target)
    recorded = target.metadata["metrics"]
    for floor in get_model_spec(name).floors:
        assert metrics[floor.metric] == pytest.approx(recorded[floor.metric], abs=1e-4)


@pytest.mark.parametrize("name", list_models())
def test_model_card_names_data_metrics_and_cues(name):
    card = model_card(name)
    for heading in (
        "## Data",
        "## Intended use",
        "## Measured quality",
        "## Known planted cues",
        "## Limitations",
    ):
        assert heading in card
    for floor in get_model_spec(name).floors:
        assert floor.metric in card


def test_cnn_target_has_both_cue_groups_and_a_last_conv(loaded_models):
    target = loaded_models("cnn")
    assert isinstance(target.model.last_conv, torch.nn.Conv2d)
    assert tuple(target.data.shape[1:]) == (3, 28, 28)
    assert float(target.data.min()) >= 0.0 and float(target.data.max()) <= 1.0
    cue = target.sensitive["cue"].value_counts()
    assert cue["agrees"] == cue["disagrees"]
    assert set(target.sensitive["colour"]) == set(digits.COLOUR_NAMES)
    metrics = get_recipe("cnn").evaluate(target)
    assert metrics["cue_gap"] > 0.02, "the planted colour cue should show as a gap"


def test_transformer_target_is_one_float_tensor_with_integer_codes(loaded_models):
    target = loaded_models("transformer")
    assert target.data.dtype == torch.float32
    assert set(target.sensitive_names) == {"sex", "race", "age_band"}
    assert set(target.sensitive["age_band"]) == {"<30", "30-50", ">50"}
    for feature in target.categorical:
        column = target.data[:, target.feature_names.index(feature)]
        assert torch.equal(column, column.round())
        lo, hi = target.feature_ranges[feature]
        assert lo == 0.0 and float(column.max()) <= hi
    # Out-of-range or fractional codes are rounded and clamped, never an index error.
    x = target.data[:4].clone()
    x[:, target.feature_names.index("race")] = torch.tensor([-3.0, 0.4, 2.6, 99.0])
    assert torch.isfinite(target.forward(x)).all()


def test_autoencoder_target_threshold_and_groups(loaded_models):
    target = loaded_models("autoencoder")
    assert target.reference_data is not None
    train_errors = target.reconstruction_error(target.reference_data)
    assert np.mean(train_errors > target.anomaly_threshold) == pytest.approx(0.05, abs=0.005)
    assert "workclass" in target.feature_groups and len(target.feature_groups["workclass"]) > 2
    assert set(target.sensitive_names) == {"sex", "race", "age_band"}


def test_lstm_target_has_a_vocabulary_and_padding(loaded_models):
    target = loaded_models("lstm")
    assert target.vocab[:2] == ["<pad>", "<unk>"]
    assert target.data.dtype == torch.long
    assert (target.data == 0).any(), "right padding with id 0"
    tokens = target.tokens(0)
    assert tokens and "<pad>" not in tokens


def test_gan_target_generates_digits_in_range(loaded_models):
    target = loaded_models("gan")
    assert target.label_model_name == "digit_classifier"
    assert target.latent_dim == target.model.latent_dim == 64
    assert target.discriminator is not None
    samples = target.generate(n=8, seed=1)
    assert samples.shape == (8, 1, 28, 28)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, target.generate(n=8, seed=1))
    assert tuple(target.reference_data.shape[1:]) == (1, 28, 28)
    assert target.score(torch.from_numpy(samples)).shape == (8,)
