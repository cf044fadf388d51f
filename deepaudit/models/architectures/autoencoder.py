"""A dense autoencoder for tabular anomaly detection (score = reconstruction error)."""

from __future__ import annotations

import torch
from torch import nn


class DenseAutoencoder(nn.Module):
    """Encoder ``n_features -> hidden -> latent_dim``, decoder mirrored, linear output.

    The output has the input's width, so the anomaly score is the mean squared
    reconstruction error per sample.
    """

    def __init__(self, n_features: int, hidden: int = 64, latent_dim: int = 12) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_features),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
