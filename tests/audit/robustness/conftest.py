"""Models with known robustness for the robustness tests: a linear model (exact minimal
flipping ε), a quantised model (no gradients), a bag-of-embeddings text model whose
nearest-neighbour word flips its label, and a table with one-hot and immutable columns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da

FAST = {"progress": False, "n_bootstrap": 50}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The models here are tiny: a second intra-op thread only adds hand-offs, and on a
    shared CPU it makes every small op wait for a busy core (tens of times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def robustness(
    target: da.Target, seed: int = 0, sample_seed: int = 0, **options
) -> da.FamilyResult:
    config = da.AuditConfig(
        families=["robustness"],
        options={"robustness": FAST | options},
        progress=False,
        seed=seed,
        sample_seed=sample_seed,
    )
    return da.run_audit(target, config)["robustness"]


class Linear(nn.Module):
    """z = w·x + b as one logit (binary)."""

    def __init__(self, w: torch.Tensor, b: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone(), requires_grad=False)
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) @ self.w + self.b)[:, None]


class Quantised(nn.Module):
    """A linear model behind a rounding step: locally flat, so every gradient is zero."""

    def __init__(self, w: torch.Tensor, b: float, levels: int = 4) -> None:
        super().__init__()
        self.inner = Linear(w, b)
        self.levels = levels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.round(x * self.levels) / self.levels)


class BagOfEmbeddings(nn.Module):
    """Mean of 2-d token embeddings; the logit is the mean's second coordinate × 10."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(weight, freeze=True, padding_idx=0)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != 0).float()[..., None]
        mean = (self.embedding(ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return 10 * mean[:, 1:2]


@pytest.fixture
def linear_target() -> da.Target:
    """Labels are the model's own predictions, so clean accuracy is 100%."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(120, 1, 4, 4, generator=gen)
    w = torch.randn(16, generator=gen)
    b = -float((x.flatten(1) @ w).median())
    model = Linear(w, b)
    labels = (model(x)[:, 0] > 0).long().numpy()
    return da.Target(model, modality="image", data=x, labels=labels, device="cpu")


@pytest.fixture
def quantised_target() -> da.Target:
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(60, 1, 6, 6, generator=gen)
    w = torch.randn(36, generator=gen)
    model = Quantised(w, 0.0)
    with torch.no_grad():
        z = model(x)[:, 0]
    model.inner.b = -float(z.median())
    labels = (model(x)[:, 0] > 0).long().numpy()
    return da.Target(model, modality="image", data=x, labels=labels, device="cpu")


@pytest.fixture
def boundary_target() -> da.Target:
    """A linear table model; group "near" lies close to its decision boundary, "far" not."""
    rng = np.random.default_rng(3)
    n = 200
    w = np.array([1.0, -1.0, 0.5, 0.0], dtype=np.float32)
    x = rng.uniform(-1, 1, size=(n, 4)).astype(np.float32)
    near = np.arange(n) < n // 2
    # Slide each row along w so that w·x lands at a chosen distance from 0.
    target_z = np.where(near, 0.03, 0.8) * rng.choice([-1, 1], n)
    x += ((target_z - x @ w) / (w @ w))[:, None] * w
    model = nn.Sequential(nn.Linear(4, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w)[None])
        model[0].bias.zero_()
    labels = (x @ w > 0).astype(np.int64)
    return da.Target(
        model,
        modality="tabular",
        data=x,
        labels=labels,
        sensitive={"band": np.where(near, "near", "far")},
        feature_ranges={f"x{i}": (-3.0, 3.0) for i in range(4)},
        device="cpu",
    )


@pytest.fixture
def mixed_table() -> da.Target:
    """Continuous, one-hot categorical and immutable columns; one value outside its range."""
    rng = np.random.default_rng(4)
    n = 80
    colour = rng.integers(0, 3, n)
    onehot = np.eye(3, dtype=np.float32)[colour]
    cont = rng.normal(size=(n, 2)).astype(np.float32)
    age = rng.uniform(20, 60, size=(n, 1)).astype(np.float32)
    x = np.concatenate([cont, onehot, age], axis=1)
    x[0, 0] = 5.0  # outside the range given below
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    return da.Target(
        model,
        modality="tabular",
        data=x,
        labels=rng.integers(0, 2, n),
        feature_names=["income", "hours", "c=red", "c=green", "c=blue", "age"],
        categorical_features={"colour": ["c=red", "c=green", "c=blue"]},
        feature_ranges={"income": (-2.0, 2.0)},
        sensitive={"sex": rng.choice(["f", "m"], n)},
        device="cpu",
    )


@pytest.fixture
def flip_word_target() -> da.Target:
    """ "good" and "bad" are each other's nearest neighbours yet have opposite logits."""
    vocab = ["<pad>", "<unk>", "good", "bad", "film", "plot", "."]
    weight = torch.tensor(
        [[0, 0], [0.5, 0.0], [1.0, 0.3], [1.0, -0.3], [0.0, 1.0], [-1.0, 0.05], [0.1, 0.1]]
    )
    # "good film ." and friends: the positive texts that one word can flip.
    ids = torch.tensor([[2, 5, 6, 0], [2, 5, 0, 0], [5, 2, 6, 0], [2, 2, 5, 5]])
    model = BagOfEmbeddings(weight)
    labels = (model(ids)[:, 0] > 0).long().numpy()
    return da.Target(model, modality="text", data=ids, labels=labels, vocab=vocab, device="cpu")
