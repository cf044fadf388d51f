"""DCGAN-style generator and discriminator for 28×28 grayscale images in [0, 1]."""

from __future__ import annotations

import torch
from torch import nn


class DCGANGenerator(nn.Module):
    """Latent vector -> 28×28 image: a linear layer to 7×7 maps, two transposed convs.

    The output passes through a sigmoid so samples lie in [0, 1] like the real digits.
    Accepts latent codes of shape ``(N, latent_dim)`` or ``(N, latent_dim, 1, 1)``.
    """

    def __init__(self, latent_dim: int = 64, width: int = 64, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7),
            nn.ReLU(),
        )
        self.unflatten = nn.Unflatten(1, (2 * width, 7, 7))
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.reshape(z.shape[0], -1)
        return self.up(self.unflatten(self.project(z)))


class DCGANDiscriminator(nn.Module):
    """28×28 image -> one logit (real vs generated): two strided convs, a linear head."""

    def __init__(self, width: int = 64, channels: int = 1, dropout: float = 0.3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(dropout),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
