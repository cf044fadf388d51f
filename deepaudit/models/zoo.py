"""The zoo's entry points: train a reference model, load it as a Target, list them.

``train_model`` runs a recipe's training with a seed, measures the model on its
held-out split and writes the checkpoint, manifest and card. ``load_model`` reads the
checkpoint back (hash-checked, safetensors only) and returns a ready
:class:`~deepaudit.audit.target.Target` holding the held-out data, labels and sensitive
attributes. ``zoo_table`` summarises every registered model from its manifest.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, replace
from typing import Any

import torch

from deepaudit.audit.device import resolve_device
from deepaudit.audit.target import Target
from deepaudit.errors import CheckpointError
from deepaudit.models.cards import render_card, write_card
from deepaudit.models.checkpoints import (
    check_manifest_fields,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
)
from deepaudit.models.registry import get_recipe, list_models
from deepaudit.models.training import TrainConfig, seed_everything

STATE_MISMATCH_MESSAGE = (
    "The checkpoint of {name!r} does not fit its architecture ({module}): {reason}. "
    "Retrain it with deepaudit.models.train_model({name!r})."
)


def deepaudit_version() -> str:
    """The installed deepaudit version (``"unknown"`` when it cannot be told)."""
    module = sys.modules.get("deepaudit")
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        return dist_version("deepaudit")
    except PackageNotFoundError:
        return "unknown"


def train_model(
    name: str,
    device: str | torch.device = "auto",
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    *,
    config: TrainConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a reference model, measure it and write its checkpoint; return the manifest.

    Parameters
    ----------
    name
        A name from :func:`list_models`.
    device
        ``"auto"`` (CUDA with mixed precision when present, else CPU), ``"cpu"`` or ``"cuda"``.
    seed
        Seeds initialisation, shuffling and dropout; the held-out splits do not move.
    out_dir
        Where to write ``<name>.safetensors``, ``<name>.json`` and ``<name>.md``; default:
        the package's own checkpoint folder (how the shipped checkpoints are made).
    config
        Training settings; default: the recipe's.
    """
    recipe = get_recipe(name)
    device = resolve_device(device, "train_model")
    config = replace(config or recipe.config, progress=progress)
    seed_everything(seed)
    started = time.perf_counter()
    trained = recipe.train(
        seed=seed,
        device=device,
        config=config,
        checkpoint_dir=None if out_dir is None else str(out_dir),
    )
    manifest: dict[str, Any] = {
        "spec": _spec_summary(recipe.spec),
        "seed": seed,
        "data_sha256": trained.data_sha256,
        "model_kwargs": trained.model_kwargs,
        "preprocessing": trained.preprocessing,
        "device": str(device),
        "device_name": _device_name(device),
        "mixed_precision": trained.result.mixed_precision,
        "torch_version": torch.__version__,
        "deepaudit_version": deepaudit_version(),
        "python_version": platform.python_version(),
        "train_seconds": round(time.perf_counter() - started, 3),
        "fit_seconds": round(trained.result.seconds, 3),
        "seconds_per_epoch": round(trained.result.seconds_per_epoch, 3),
        "epochs_run": trained.result.epochs_run,
        "best_epoch": trained.result.best_epoch,
        "history": trained.result.history,
        "train_config": _config_summary(config),
        "n_parameters": sum(p.numel() for m in trained.modules.values() for p in m.parameters()),
        "notes": trained.notes,
    }
    target = recipe.target(
        trained.modules, manifest, device, None if out_dir is None else str(out_dir)
    )
    if out_dir is not None:
        target.metadata["checkpoint_dir"] = str(out_dir)
    metrics = recipe.evaluate(target)
    manifest["metrics"] = metrics
    manifest["floors_met"] = {str(f): bool(f.is_met(metrics[f.metric])) for f in recipe.spec.floors}
    state = {k: m.state_dict() for k, m in trained.modules.items()}
    full = save_checkpoint(name, state, manifest, out_dir)
    write_card(recipe.spec, full, out_dir)
    return full


def load_model(
    name: str,
    device: str | torch.device = "auto",
    checkpoint_dir: str | os.PathLike | None = None,
) -> Target:
    """A reference model as a ready :class:`Target` with its held-out evaluation data.

    The checkpoint's sha256 is checked against its manifest and only safetensors files
    are read. ``target.metadata`` holds the model card and the manifest's measurements.
    """
    recipe = get_recipe(name)
    check_manifest_fields(read_manifest(name, checkpoint_dir), name, checkpoint_dir)
    state, manifest = load_checkpoint(name, checkpoint_dir)
    try:
        modules = recipe.build(manifest["model_kwargs"])
    except (KeyError, TypeError, ValueError) as exc:  # arguments of another version
        raise CheckpointError(
            STATE_MISMATCH_MESSAGE.format(name=name, module="model_kwargs", reason=exc)
        ) from exc
    for module_name, module in modules.items():
        try:
            module.load_state_dict(state[module_name])
        except (KeyError, RuntimeError) as exc:
            raise CheckpointError(
                STATE_MISMATCH_MESSAGE.format(name=name, module=module_name, reason=exc)
            ) from exc
        module.eval()
    target = recipe.target(
        modules, manifest, device, None if checkpoint_dir is None else str(checkpoint_dir)
    )
    target.name = name
    if checkpoint_dir is not None:
        target.metadata["checkpoint_dir"] = str(checkpoint_dir)
    target.metadata.update(
        {
            "zoo_name": name,
            "model_card": render_card(recipe.spec, manifest),
            "metrics": manifest.get("metrics", {}),
            "floors": [str(f) for f in recipe.spec.floors],
            "checkpoint_sha256": manifest.get("sha256"),
            "data_sha256": manifest.get("data_sha256"),
            "seed": manifest.get("seed"),
            "dataset": recipe.spec.dataset,
            "licence": recipe.spec.licence,
            "architecture": recipe.spec.architecture,
            "planted_cues": recipe.spec.planted_cues,
        }
    )
    return target


def model_card(name: str, checkpoint_dir: str | os.PathLike | None = None) -> str:
    """The model card of ``name`` as Markdown, from its spec and manifest."""
    recipe = get_recipe(name)
    return render_card(recipe.spec, read_manifest(name, checkpoint_dir))


def zoo_table(checkpoint_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per registered model: its spec and the measurements in its manifest."""
    rows = []
    for name in list_models():
        spec = get_recipe(name).spec
        try:
            manifest = read_manifest(name, checkpoint_dir)
        except CheckpointError:
            manifest = {}
        rows.append(
            {
                "name": name,
                "kind": spec.kind,
                "modality": spec.modality,
                "dataset": spec.dataset,
                "architecture": spec.architecture,
                "licence": spec.licence,
                "floors": [str(f) for f in spec.floors],
                "trained": bool(manifest),
                "metrics": manifest.get("metrics", {}),
                "floors_met": manifest.get("floors_met", {}),
                "seconds_per_epoch": manifest.get("seconds_per_epoch"),
                "train_seconds": manifest.get("train_seconds"),
                "device": manifest.get("device"),
                "size_bytes": manifest.get("size_bytes"),
                "sha256": manifest.get("sha256"),
            }
        )
    return rows


def _spec_summary(spec: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "modality": spec.modality,
        "dataset": spec.dataset,
        "licence": spec.licence,
        "architecture": spec.architecture,
        "floors": [str(f) for f in spec.floors],
    }


def _config_summary(config: TrainConfig) -> dict[str, Any]:
    return {k: v for k, v in asdict(config).items() if k != "progress"}


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
