"""Toy generators (and helpers) with known behaviour: one that learned the data distribution, one that
returns copies of its training samples, one that collapsed to a single sample."""

from __future__ import annotations

import torch
from torch import nn

import deepaudit as da

LATENT = 16
SHAPE = (1, 4, 4)


class AffineGenerator(nn.Module):
    """``z -> A z + mu`` reshaped to 1×4×4: its samples are N(mu, A Aᵀ) exactly."""

    def __init__(self, a: torch.Tensor, mu: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("a", a)
        self.register_buffer("mu", mu)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.a.T + self.mu).reshape(-1, *SHAPE)


class CopyGenerator(nn.Module):
    """Returns one of its stored training samples, chosen by the first latent value."""

    def __init__(self, bank: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("bank", bank)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = torch.special.ndtr(z[:, 0])
        index = (u * len(self.bank)).long().clamp(0, len(self.bank) - 1)
        return self.bank[index]


class CollapsedGenerator(nn.Module):
    """Always (almost) the same sample."""

    def __init__(self, sample: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("sample", sample)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.sample[None] + 1e-3 * z[:, :16].reshape(-1, *SHAPE)


class Toy:
    """A 16-d Gaussian seen as 1×4×4 images, with training and held-out draws."""

    def __init__(self, seed: int = 0, n_train: int = 400, n_real: int = 300) -> None:
        g = torch.Generator().manual_seed(10_000 + seed)  # not the audit seed's stream
        self.a = torch.randn(16, LATENT, generator=g) / 4
        self.mu = torch.rand(16, generator=g)
        self.truth = AffineGenerator(self.a, self.mu)
        with torch.no_grad():
            self.train = self.truth(torch.randn(n_train, LATENT, generator=g))
            self.real = self.truth(torch.randn(n_real, LATENT, generator=g))

    def target(self, generator: nn.Module, *, train: bool = True, **kwargs) -> da.Target:
        return da.Target(
            generator,
            kind="generator",
            modality="image",
            latent_dim=LATENT,
            reference_data=self.real,
            train_data=self.train if train else None,
            device="cpu",
            **kwargs,
        )


#: Small budgets: a toy audit takes well under a second.
FAST = {
    "n_generated": 300,
    "n_real": 300,
    "n_bootstrap": 50,
    "grid_size": 16,
    "n_interpolations": 2,
    "interpolation_steps": 5,
    "n_neighbours_shown": 4,
    "progress": False,
}


def audit(target: da.Target, seed: int = 0, sample_seed: int = 0, **options) -> da.FamilyResult:
    config = da.AuditConfig(
        families=["generative"],
        options={"generative": FAST | options},
        seed=seed,
        sample_seed=sample_seed,
        progress=False,
    )
    return da.run_audit(target, config)["generative"]


def by_check(result: da.FamilyResult) -> dict[str, da.Finding]:
    return {f.check: f for f in result.findings}
