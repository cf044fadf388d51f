"""What a reference model's recipe provides, and the pieces recipes share.

A recipe knows how to train its model (through :func:`deepaudit.models.training.fit`),
how to rebuild the modules from a manifest's constructor kwargs, how to build the
:class:`~deepaudit.audit.target.Target` with its held-out data from the vendored data
and the manifest's preprocessing state, and how to measure it on that data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.registry import ModelSpec
from deepaudit.models.training import (
    TrainConfig,
    TrainResult,
    evaluate_loss,
    fit,
    supervised_step,
)

SPLIT_SEED = 0  # held-out splits do not move with the training seed


@dataclass
class Trained:
    """A recipe's training output: modules, how to rebuild them and their inputs."""

    modules: dict[str, nn.Module]
    model_kwargs: dict[str, dict[str, Any]]
    preprocessing: dict[str, Any]
    result: TrainResult
    data_sha256: str
    notes: dict[str, Any] = field(default_factory=dict)


class Recipe(ABC):
    """Train, rebuild, wrap as a Target and measure one reference model."""

    spec: ClassVar[ModelSpec]
    config: ClassVar[TrainConfig]

    @abstractmethod
    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        """The untrained modules, by name, from their constructor kwargs."""

    @abstractmethod
    def train(
        self,
        *,
        seed: int,
        device: str | torch.device,
        config: TrainConfig,
        limit: int | None = None,
        checkpoint_dir: str | None = None,
    ) -> Trained:
        """Train on the vendored data (the first ``limit`` training rows when given)."""

    @abstractmethod
    def target(
        self,
        modules: Mapping[str, nn.Module],
        manifest: Mapping[str, Any],
        device: str | torch.device,
        checkpoint_dir: str | None = None,
    ) -> Target:
        """The Target with the held-out split, labels and sensitive attributes
        (``checkpoint_dir``: where the checkpoints of models it depends on lie)."""

    @abstractmethod
    def evaluate(self, target: Target) -> dict[str, float]:
        """The quality metrics (those named in the spec's floors among them)."""


def train_classifier(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor],
    *,
    config: TrainConfig,
    seed: int,
    device: str | torch.device,
    desc: str,
    label_smoothing: float = 0.0,
    clip_norm: float | None = None,
) -> TrainResult:
    """Cross-entropy training with AdamW, early-stopped on validation loss."""
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    plain_loss = nn.CrossEntropyLoss()
    modules = {"model": model}
    return fit(
        modules,
        lambda m: {
            "model": torch.optim.AdamW(
                m["model"].parameters(), lr=config.lr, weight_decay=config.weight_decay
            )
        },
        lambda opt: supervised_step(model, "model", loss_fn, opt, clip_norm),
        train,
        validate=lambda: evaluate_loss(model, validation, plain_loss, _device_of(model)),
        config=config,
        seed=seed,
        device=device,
        desc=desc,
    )


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def head(tensors: tuple[torch.Tensor, ...], limit: int | None) -> tuple[torch.Tensor, ...]:
    """The first ``limit`` rows of each tensor (all when ``limit`` is None)."""
    return tensors if limit is None else tuple(t[:limit] for t in tensors)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))
