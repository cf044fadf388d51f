"""Reading IDX files, the format of MNIST and Fashion-MNIST (gzipped or not).

An IDX file starts with a magic number: two zero bytes, a type byte (``0x08`` for
unsigned bytes, ...) and the number of dimensions, then one big-endian 32-bit size per
dimension, then the data. Image files (3 dimensions) therefore start their pixels at
offset 16 and label files (1 dimension) at offset 8.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from deepaudit.errors import ValidationError
from deepaudit.models.datasets._files import open_maybe_gzip

NOT_IDX_MESSAGE = "{path} is not an IDX file: {reason}."
MISMATCH_MESSAGE = "{images} holds {n_images} images but {labels} holds {n_labels} labels."

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file, with its shape from the header."""
    with open_maybe_gzip(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValidationError(NOT_IDX_MESSAGE.format(path=path, reason="bad magic number"))
    dtype, ndim = _DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValidationError(NOT_IDX_MESSAGE.format(path=path, reason="truncated header"))
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    count = int(np.prod(shape)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise ValidationError(
            NOT_IDX_MESSAGE.format(
                path=path,
                reason=f"the header says {count} values but the file holds "
                f"{(len(raw) - header) // dtype.itemsize}",
            )
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def load_idx_dataset(
    images_path: str | os.PathLike, labels_path: str | os.PathLike
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``N×H×W`` (uint8, 0–255) and labels ``N`` (int64) from two IDX files."""
    images = read_idx(images_path)
    labels = read_idx(labels_path).astype(np.int64)
    if images.ndim != 3:
        raise ValidationError(
            NOT_IDX_MESSAGE.format(path=images_path, reason=f"{images.ndim} dimensions, not 3")
        )
    if len(images) != len(labels):
        raise ValidationError(
            MISMATCH_MESSAGE.format(
                images=images_path, n_images=len(images), labels=labels_path, n_labels=len(labels)
            )
        )
    return images, labels


def write_idx(path: str | os.PathLike, array: np.ndarray, *, gzipped: bool = False) -> None:
    """Write a uint8 array as an IDX file (tests and tools use it to make fixtures)."""
    import gzip

    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.tobytes()
    if gzipped:
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as fh:
        fh.write(payload)
