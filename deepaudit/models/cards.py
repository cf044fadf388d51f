"""Model cards: a reference model's spec and measured manifest, as Markdown."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from deepaudit.models.registry import ModelSpec


def default_card_dir() -> Path:
    """The folder of the cards shipped inside the package."""
    return Path(str(resources.files("deepaudit.models") / "cards"))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_card(spec: ModelSpec, manifest: Mapping[str, Any]) -> str:
    """The model card of ``spec`` with the measurements in ``manifest``."""
    metrics = manifest.get("metrics", {})
    lines = [
        f"# Model card: `{spec.name}`",
        "",
        spec.description,
        "",
        "## Model",
        "",
        f"- kind: {spec.kind}; modality: {spec.modality}",
        f"- architecture: {spec.architecture}",
        f"- constructor arguments: `{dict(manifest.get('model_kwargs', {}))}`",
        f"- parameters: {manifest.get('n_parameters', 'unknown')}",
        f"- weights: `{manifest.get('weights_file', spec.name + '.safetensors')}` "
        f"({manifest.get('size_bytes', 0) / 1e6:.2f} MB), sha256 `{manifest.get('sha256', '')}`",
        "",
        "## Data",
        "",
        f"- data set: {spec.dataset}",
        f"- licence: {spec.licence}",
        f"- data sha256: `{manifest.get('data_sha256', '')}`",
        f"- sensitive attributes: {', '.join(spec.sensitive) or 'none'}",
        "",
        "## Intended use",
        "",
        "A reference model for demonstrating and testing deepaudit's audits (attributions, "
        "fairness, robustness, generative audits). It is small, trained on a public data "
        "set in minutes on a CPU, and is not meant for any decision about people.",
        "",
        "## Measured quality (held-out data)",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {_fmt(v)} |" for k, v in sorted(metrics.items())],
        "",
        "Quality floors (checked by the test suite on a fresh evaluation):",
        "",
        *[
            f"- {floor}{' — ' + floor.description if floor.description else ''}"
            for floor in spec.floors
        ],
        "",
        "## Training",
        "",
        f"- seed: {manifest.get('seed')}; device: {manifest.get('device')}; "
        f"mixed precision: {manifest.get('mixed_precision')}",
        f"- epochs run: {manifest.get('epochs_run')} (best: {manifest.get('best_epoch')}); "
        f"{_fmt(manifest.get('seconds_per_epoch', 0.0))} s per epoch, "
        f"{_fmt(manifest.get('train_seconds', 0.0))} s in all",
        f"- torch {manifest.get('torch_version')}, deepaudit {manifest.get('deepaudit_version')}",
        f"- reproduce: `deepaudit.models.train_model({spec.name!r}, seed={manifest.get('seed')})`",
        "",
        "## Known planted cues",
        "",
        spec.planted_cues or "None planted on purpose.",
        "",
        "## Limitations",
        "",
        spec.limitations
        or "Small model, small data: expect it to be less accurate than the state of the art.",
        "",
    ]
    return "\n".join(lines)


def write_card(
    spec: ModelSpec, manifest: Mapping[str, Any], directory: str | os.PathLike | None = None
) -> Path:
    """Write ``<name>.md`` into ``directory`` (default: the package's cards folder)."""
    from deepaudit.models.checkpoints import atomic_write

    folder = Path(directory) if directory is not None else default_card_dir()
    path = folder / f"{spec.name}.md"
    text = render_card(spec, manifest)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
