"""Checkpoints are safetensors only, hash-checked, and written atomically."""

from __future__ import annotations

import shutil

import pytest
import torch

from deepaudit.errors import CheckpointError
from deepaudit.models import checkpoints as ck
from deepaudit.models import load_model
from deepaudit.models.cards import default_card_dir


def _copy(name, folder):
    weights, manifest = ck.checkpoint_paths(name)
    shutil.copy(weights, folder / weights.name)
    shutil.copy(manifest, folder / manifest.name)
    return folder / weights.name


def test_a_copy_loads_from_another_folder(tmp_path):
    _copy("digit_classifier", tmp_path)
    target = load_model("digit_classifier", device="cpu", checkpoint_dir=tmp_path)
    assert target.metadata["checkpoint_dir"] == str(tmp_path)


def test_a_corrupted_checkpoint_is_refused(tmp_path):
    weights = _copy("digit_classifier", tmp_path)
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # flip a byte of a weight, keep the file well-formed
    weights.write_bytes(bytes(data))
    manifest = ck.read_manifest("digit_classifier", tmp_path)
    with pytest.raises(CheckpointError) as info:
        load_model("digit_classifier", device="cpu", checkpoint_dir=tmp_path)
    assert str(info.value) == ck.HASH_MISMATCH_MESSAGE.format(
        path=weights,
        actual=ck.sha256_file(weights),
        expected=manifest["sha256"],
        name="digit_classifier",
    )
    assert "does not match its manifest" in str(info.value)


def test_a_pickled_checkpoint_is_refused_before_reading(tmp_path):
    weights = _copy("digit_classifier", tmp_path)
    state = load_model("digit_classifier", device="cpu").model.state_dict()
    torch.save(state, weights)  # a zip-format pickle under the safetensors name
    with pytest.raises(CheckpointError) as info:
        load_model("digit_classifier", device="cpu", checkpoint_dir=tmp_path)
    assert str(info.value) == ck.PICKLE_REFUSED_MESSAGE.format(path=weights)
    assert "pickle" in str(info.value) and "safetensors" in str(info.value)


def test_legacy_pickles_and_pt_files_are_refused(tmp_path):
    legacy = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError) as info:
        ck.load_weights(legacy)
    assert str(info.value) == ck.PICKLE_REFUSED_MESSAGE.format(path=legacy)
    pt = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, pt)
    with pytest.raises(CheckpointError, match="pickle"):
        ck.load_weights(pt)


def test_other_files_are_refused_as_not_safetensors(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError) as info:
        ck.load_weights(path)
    assert str(info.value) == ck.NOT_SAFETENSORS_MESSAGE.format(path=path)


def test_a_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(CheckpointError) as info:
        load_model("cnn", device="cpu", checkpoint_dir=tmp_path)
    assert str(info.value) == ck.MISSING_MESSAGE.format(name="cnn", directory=tmp_path)


def test_save_and_load_round_trip_without_temporary_files(tmp_path):
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(3)}}
    manifest = ck.save_checkpoint("toy", state, {"seed": 3}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.json", "toy.safetensors"]
    assert manifest["sha256"] == ck.sha256_file(tmp_path / "toy.safetensors")
    loaded, read = ck.load_checkpoint("toy", tmp_path)
    assert read == manifest
    assert torch.equal(loaded["model"]["w"], state["model"]["w"])


def test_a_manifest_without_a_hash_is_refused(tmp_path):
    ck.save_checkpoint("toy", {"model": {"w": torch.zeros(1)}}, {}, tmp_path)
    path = tmp_path / "toy.json"
    path.write_text(path.read_text().replace('"sha256"', '"sha_256"'))
    with pytest.raises(CheckpointError, match="no sha256"):
        ck.load_checkpoint("toy", tmp_path)


def test_shipped_cards_exist_for_every_model():
    from deepaudit.models import list_models

    for name in list_models():
        assert (default_card_dir() / f"{name}.md").is_file()
