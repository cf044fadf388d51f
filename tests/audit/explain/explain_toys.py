"""Tiny models with known attributions, for the explain family's tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.explain import ExplainConfig
from deepaudit.audit.explain.case import build_case


class OnlyFeature(nn.Module):
    """Two logits ``[-g, g]`` with ``g = 2 x_k + tanh(x_k)``: only feature ``k`` matters,
    whichever class is predicted."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k
        self.scale = nn.Linear(1, 1)  # something for the randomisation test to re-initialise
        with torch.no_grad():
            self.scale.weight.fill_(1.0)
            self.scale.bias.fill_(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xk = x[:, self.k : self.k + 1]
        g = self.scale(2 * xk + torch.tanh(xk))
        return torch.cat([-g, g], dim=1)


class ChannelModel(nn.Module):
    """A small CNN over a fixed mix of the RGB channels: ``mix`` (1, 1, 1)/3 sees only
    brightness (colour-blind), (1, -1, 0) only the red-green difference."""

    def __init__(self, mix: tuple[float, float, float]) -> None:
        super().__init__()
        self.register_buffer("mix", torch.tensor(mix).reshape(1, 3, 1, 1))
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv((x * self.mix).sum(dim=1, keepdim=True)))
        return self.head(h.mean(dim=(2, 3)))


class DropFirstFeature(nn.Module):
    """An autoencoder reconstructing every feature but the first (which comes back as 0):
    its reconstruction error is ``x0² / F``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[:, 0] = 0.0
        return out * 1.0


def tabular(model: nn.Module, X: np.ndarray, **kwargs) -> da.Target:
    kwargs.setdefault("kind", "classifier")
    return da.Target(model, modality="tabular", data=X, device="cpu", **kwargs)


def rgb_target(model: nn.Module, seed: int = 0, n: int = 24) -> da.Target:
    """Random tinted 8×8 "digits": a grey pattern times a random colour per image."""
    rng = np.random.default_rng(seed)
    shape = rng.random((n, 1, 8, 8)).astype(np.float32)
    colour = rng.random((n, 3, 1, 1)).astype(np.float32)
    return da.Target(model, modality="image", data=shape * colour, device="cpu")


def explain(target: da.Target, seed: int = 0, sample_seed: int = 0, **options) -> da.FamilyResult:
    options.setdefault("progress", False)
    config = da.AuditConfig(
        families=["explain"],
        options={"explain": options},
        seed=seed,
        sample_seed=sample_seed,
        progress=False,
    )
    return da.run_audit(target, config)["explain"]


def case_of(target: da.Target, n: int = 8, seed: int = 0, n_background: int = 16):
    return build_case(target, n, n_background, seed)


def config(**changes) -> ExplainConfig:
    changes.setdefault("progress", False)
    return ExplainConfig(**changes)
