"""Digit splits and colours shared by the ``cnn``, ``digit_classifier`` and ``gan``."""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.models.datasets import digits

AGREE_FRACTIONS = {"train": 0.9, "validation": 0.9, "test": 0.5}


def grayscale_splits(split_seed: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per split: images ``N×1×28×28`` in [0, 1] and labels."""
    images, labels = digits.load_digits()
    out = {}
    for name, idx in digits.digit_splits(labels, split_seed).items():
        out[name] = (
            torch.from_numpy(digits.grayscale(images[idx])),
            torch.from_numpy(labels[idx].copy()),
        )
    return out


def coloured_splits(
    split_seed: int, agree_fractions: dict[str, float] = AGREE_FRACTIONS
) -> dict[str, dict[str, np.ndarray | torch.Tensor]]:
    """Per split: coloured images ``N×3×28×28``, labels, colour ids and cue agreement.

    Colours are drawn with a generator seeded by ``(split_seed, split number)``, so a
    checkpoint's held-out split is rebuilt exactly at load time.
    """
    images, labels = digits.load_digits()
    out = {}
    for k, (name, idx) in enumerate(digits.digit_splits(labels, split_seed).items()):
        rng = np.random.default_rng([split_seed, k])
        colour_ids, agrees = digits.assign_colours(labels[idx], agree_fractions[name], rng)
        out[name] = {
            "x": torch.from_numpy(digits.colourise(images[idx], colour_ids)),
            "y": torch.from_numpy(labels[idx].copy()),
            "colour": colour_ids,
            "agrees": agrees,
        }
    return out
