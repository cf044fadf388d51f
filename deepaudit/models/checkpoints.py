"""Checkpoints: safetensors weights beside a JSON manifest, written atomically.

A checkpoint is ``<name>.safetensors`` (every module's weights, keys prefixed by the
module's name: ``model.``, ``generator.``, ...) and ``<name>.json``, the manifest: the
weights' sha256, seed, data hash, metrics, versions, timings, constructor kwargs and
the preprocessing state needed to rebuild inputs, all as plain JSON. Loading checks the
file is safetensors (pickles can run code when loaded, so they are refused outright)
and that its sha256 matches the manifest.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from deepaudit.errors import CheckpointError
from deepaudit.run_folder import sha256_file

MANIFEST_VERSION = 1
SUFFIX = ".safetensors"

PICKLE_REFUSED_MESSAGE = (
    "Refusing to load {path}: it is a pickle file (as torch.save writes), and unpickling "
    "can run arbitrary code. deepaudit loads checkpoints only in the safetensors format."
)
NOT_SAFETENSORS_MESSAGE = (
    "Refusing to load {path}: deepaudit loads checkpoints only in the safetensors format "
    "(a '.safetensors' file); this file is not one."
)
HASH_MISMATCH_MESSAGE = (
    "Checkpoint {path} does not match its manifest: its sha256 is {actual}, the manifest "
    "says {expected}. The file is corrupted or was replaced; retrain it with "
    "deepaudit.models.train_model({name!r})."
)
MISSING_MESSAGE = (
    "No checkpoint for {name!r} in {directory}: expected {name}.safetensors and "
    "{name}.json. Train one with deepaudit.models.train_model({name!r})."
)
MANIFEST_CORRUPT_MESSAGE = "The manifest {path} cannot be read: {reason}."
UNREADABLE_MESSAGE = "The checkpoint {path} cannot be read as safetensors: {reason}."


def default_checkpoint_dir() -> Path:
    """The folder of the checkpoints shipped inside the package."""
    return Path(str(resources.files("deepaudit.models") / "checkpoints"))


def checkpoint_paths(name: str, directory: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The weights and manifest paths of ``name`` in ``directory`` (default: shipped)."""
    folder = Path(directory) if directory is not None else default_checkpoint_dir()
    return folder / f"{name}{SUFFIX}", folder / f"{name}.json"


def atomic_write(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(
    name: str,
    state: Mapping[str, Mapping[str, torch.Tensor]],
    manifest: Mapping[str, Any],
    directory: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Write ``state`` (module name -> state dict) and its manifest; return the manifest.

    The weights are written first, then the manifest with their sha256, each through a
    temporary file and ``os.replace`` so that a reader never sees half a checkpoint.
    """
    weights_path, manifest_path = checkpoint_paths(name, directory)
    tensors = {
        f"{module}.{key}": value.detach().cpu().contiguous().clone()
        for module, sd in state.items()
        for key, value in sd.items()
    }
    atomic_write(
        weights_path, lambda tmp: save_file(tensors, tmp, metadata={"deepaudit_model": name})
    )
    full = dict(manifest)
    full.update(
        {
            "manifest_version": MANIFEST_VERSION,
            "name": name,
            "weights_file": weights_path.name,
            "sha256": sha256_file(weights_path),
            "size_bytes": weights_path.stat().st_size,
        }
    )
    text = json.dumps(full, indent=2, sort_keys=True) + "\n"
    atomic_write(manifest_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return full


def read_manifest(name: str, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """The manifest of ``name``; a missing or unreadable one raises :class:`CheckpointError`."""
    weights_path, manifest_path = checkpoint_paths(name, directory)
    if not manifest_path.is_file() or not weights_path.is_file():
        raise CheckpointError(MISSING_MESSAGE.format(name=name, directory=manifest_path.parent))
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            MANIFEST_CORRUPT_MESSAGE.format(path=manifest_path, reason=exc)
        ) from exc


def check_manifest_fields(
    manifest: dict[str, Any], name: str, directory: str | os.PathLike | None = None
) -> None:
    """Refuse, before a module is built, a manifest lacking what building reads: the
    constructor arguments of each module and the preprocessing of the data."""
    _, manifest_path = checkpoint_paths(name, directory)
    for field, expected, ok in _BUILD_FIELDS:
        value = manifest.get(field)
        if not ok(value):
            got = "nothing" if value is None else f"a {type(value).__name__}"
            raise CheckpointError(
                MANIFEST_CORRUPT_MESSAGE.format(
                    path=manifest_path,
                    reason=f"its {field!r} must be {expected}, but it holds {got}; retrain "
                    f"it with deepaudit.models.train_model({name!r})",
                )
            )


#: What building a reference model reads from its manifest.
_BUILD_FIELDS = (
    (
        "model_kwargs",
        "a mapping from each module to its constructor arguments",
        lambda v: isinstance(v, dict) and all(isinstance(k, dict) for k in v.values()),
    ),
    ("preprocessing", "a mapping", lambda v: isinstance(v, dict)),
)


def check_safetensors_format(path: str | os.PathLike) -> None:
    """Refuse anything that is not a safetensors file, pickles with their own message.

    A safetensors file starts with an 8-byte little-endian header length followed by
    a JSON header (``{``). ``torch.save`` writes a zip archive (``PK``) or, in its
    legacy format, a raw pickle (``0x80`` and a protocol number).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(9)
    if head[:2] == b"PK" or (len(head) >= 2 and head[0] == 0x80 and head[1] <= 5):
        raise CheckpointError(PICKLE_REFUSED_MESSAGE.format(path=path))
    size = path.stat().st_size
    if path.suffix != SUFFIX or len(head) < 9 or head[8:9] != b"{":
        raise CheckpointError(NOT_SAFETENSORS_MESSAGE.format(path=path))
    (header_len,) = struct.unpack("<Q", head[:8])
    if header_len + 8 > size:
        raise CheckpointError(NOT_SAFETENSORS_MESSAGE.format(path=path))


def load_weights(
    path: str | os.PathLike, expected_sha256: str | None = None, name: str | None = None
) -> dict[str, dict[str, torch.Tensor]]:
    """Load a safetensors checkpoint as module name -> state dict, after the checks.

    The format is checked first (pickles are refused before anything reads them), then
    the sha256 against ``expected_sha256`` when given.
    """
    path = Path(path)
    check_safetensors_format(path)
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise CheckpointError(
                HASH_MISMATCH_MESSAGE.format(
                    path=path, actual=actual, expected=expected_sha256, name=name or path.stem
                )
            )
    try:
        flat = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(UNREADABLE_MESSAGE.format(path=path, reason=exc)) from exc
    state: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        module, _, param = key.partition(".")
        state.setdefault(module, {})[param] = value
    return state


def load_checkpoint(
    name: str, directory: str | os.PathLike | None = None
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Weights and manifest of ``name``, checked against each other."""
    manifest = read_manifest(name, directory)
    weights_path, manifest_path = checkpoint_paths(name, directory)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise CheckpointError(
            MANIFEST_CORRUPT_MESSAGE.format(path=manifest_path, reason="it has no sha256")
        )
    state = load_weights(weights_path, manifest["sha256"], name)
    return state, manifest
