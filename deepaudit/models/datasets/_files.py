"""Where the vendored data lies inside the package, and content hashes of data."""

from __future__ import annotations

import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"


def package_data_path(filename: str) -> Path:
    """Path of a file vendored in ``deepaudit/models/data``."""
    return Path(str(resources.files("deepaudit.models") / "data" / filename))


def open_maybe_gzip(path: str | os.PathLike, mode: str = "rb"):
    """Open a file, decompressing it when it starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == GZIP_MAGIC
    if gzipped:
        return gzip.open(path, mode)
    return open(path, mode)


def sha256_files(*paths: str | os.PathLike) -> str:
    """One sha256 over several files' bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def sha256_arrays(*arrays: np.ndarray) -> str:
    """One sha256 over several arrays' dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for array in arrays:
        a = np.ascontiguousarray(array)
        digest.update(str(a.dtype).encode())
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def stratified_split(
    labels: np.ndarray, fractions: tuple[float, ...], seed: int
) -> list[np.ndarray]:
    """Indices of each split, stratified by label, sorted, reproducible from ``seed``.

    Each class is shuffled with ``numpy.random.default_rng(seed)`` and cut by
    ``fractions`` (the last split takes the remainder).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        idx = idx[rng.permutation(len(idx))]
        cuts = np.rint(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for k, chunk in enumerate(np.split(idx, cuts)):
            parts[k].append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]
