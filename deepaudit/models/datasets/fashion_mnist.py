"""Fashion-MNIST from IDX files: a user's copy, or Debian's ``dataset-fashion-mnist``.

The Debian package installs the whole data set (60,000 training and 10,000 test
images, MIT licence, Zalando Research) as gzipped IDX files in
``/usr/share/datasets/fashion-mnist``; :func:`load_fashion_mnist` reads it from there
by default, or from any folder holding the four standard files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepaudit.errors import ValidationError
from deepaudit.models.datasets.idx import load_idx_dataset

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_PREFIX = {"train": "train", "test": "t10k"}

SPLIT_MESSAGE = (
    "The 'split' parameter of load_fashion_mnist must be 'train' or 'test'. Got {got!r} instead."
)
MISSING_MESSAGE = (
    "No Fashion-MNIST {split} files in {directory}: expected {expected} (gzipped or not). "
    "Install the Debian package dataset-fashion-mnist or pass the folder of your copy."
)


def _find(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def is_available(directory: str | os.PathLike = DEBIAN_DIR) -> bool:
    """Whether both splits of Fashion-MNIST are in ``directory``."""
    folder = Path(directory)
    return all(
        _find(folder, f"{_PREFIX[s]}-{kind}") is not None
        for s in _PREFIX
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
    )


def load_fashion_mnist(
    directory: str | os.PathLike = DEBIAN_DIR, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``N×28×28`` (uint8) and labels of one Fashion-MNIST split.

    Parameters
    ----------
    directory
        Folder with ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]``.
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000).
    """
    if split not in _PREFIX:
        raise ValidationError(SPLIT_MESSAGE.format(got=split))
    folder = Path(directory)
    stems = [f"{_PREFIX[split]}-images-idx3-ubyte", f"{_PREFIX[split]}-labels-idx1-ubyte"]
    found = [_find(folder, s) for s in stems]
    if any(f is None for f in found):
        raise ValidationError(
            MISSING_MESSAGE.format(split=split, directory=folder, expected=" and ".join(stems))
        )
    return load_idx_dataset(found[0], found[1])
