"""Tiny models and data shared by the tests: each kind and modality deepaudit audits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from tests.audit import vision_toys

# An installed torchvision made importable before anything imports it: transformers
# does, and a torchvision whose compiled ops do not load breaks its model classes.
vision_toys.torchvision()


class TinyLSTM(nn.Module):
    def __init__(self, vocab_size: int = 20, dim: int = 8) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * dim, 2)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(tokens))
        return self.head(out.mean(dim=1))


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(x))
        return self.head(nn.functional.adaptive_avg_pool2d(h, 4).flatten(1))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def tabular_target(rng) -> da.Target:
    torch.manual_seed(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return da.Target(
        model,
        kind="classifier",
        modality="tabular",
        data=X,
        labels=y,
        sensitive={"sex": np.where(X[:, 1] > 0, "female", "male"), "age": rng.integers(0, 3, 200)},
        feature_names=["income", "hours", "age", "edu"],
        class_names=["no", "yes"],
        device="cpu",
    )


@pytest.fixture
def image_target(rng) -> da.Target:
    torch.manual_seed(0)
    X = rng.random(size=(30, 1, 8, 8)).astype(np.float32)
    return da.Target(
        TinyCNN(), modality="image", data=X, labels=rng.integers(0, 3, 30), device="cpu"
    )


@pytest.fixture
def text_target(rng) -> da.Target:
    torch.manual_seed(0)
    tokens = rng.integers(1, 20, size=(25, 7))
    tokens[:, 5:] = 0  # padding
    vocab = ["<pad>", "<unk>"] + [f"w{i}" for i in range(18)]
    return da.Target(
        TinyLSTM(),
        modality="text",
        data=tokens,
        labels=rng.integers(0, 2, 25),
        vocab=vocab,
        device="cpu",
    )


@pytest.fixture
def autoencoder_target(rng) -> da.Target:
    torch.manual_seed(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    model = nn.Sequential(nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 6))
    return da.Target(
        model,
        kind="autoencoder",
        modality="tabular",
        data=X[:60],
        reference_data=X[60:],
        device="cpu",
    )


@pytest.fixture
def generator_target() -> da.Target:
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(5, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    real = torch.rand(50, 1, 4, 4)
    return da.Target(
        generator,
        kind="generator",
        modality="image",
        latent_dim=5,
        discriminator=discriminator,
        reference_data=real,
        device="cpu",
    )
