"""Fixtures of the generative family's tests (the toys themselves: generative_toys.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from tests.audit.generative.generative_toys import Toy


@pytest.fixture
def toy() -> Toy:
    return Toy()


@pytest.fixture
def planted_autoencoder(rng) -> da.Target:
    """Reconstructs every column exactly except 'x2', which it always outputs as 0."""

    class DropColumn(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mask = torch.ones(x.shape[1], device=x.device)
            mask[2] = 0
            return x * mask

    X = rng.normal(size=(400, 5)).astype(np.float32)
    return da.Target(
        DropColumn(),
        kind="autoencoder",
        modality="tabular",
        data=X[:200],
        reference_data=X[200:],
        device="cpu",
    )
