"""Labelled texts from a CSV file, and the tokeniser and vocabulary the text model uses.

Tokens are lower-cased words (with an apostrophe part such as ``n't`` kept) and
single punctuation marks. A vocabulary is a list of tokens whose index is the token
id: ``0`` is ``<pad>``, ``1`` is ``<unk>``. It is built from the training split only
and saved as a JSON list in the checkpoint's manifest.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepaudit.audit.text import PAD, PAD_ID, TOKEN_PATTERN, UNK, UNK_ID, encode, tokenize
from deepaudit.errors import ValidationError

__all__ = [
    "PAD",
    "PAD_ID",
    "TOKEN_PATTERN",
    "UNK",
    "UNK_ID",
    "LabelledTexts",
    "build_vocab",
    "encode",
    "load_text_csv",
    "tokenize",
]

COLUMN_MESSAGE = "{path} has no column {column!r}; its columns are {columns}."
LABELS_MESSAGE = "{path} has labels {unknown} that are not in class_names {class_names}."


@dataclass(frozen=True)
class LabelledTexts:
    """Texts, integer labels and the name of each label."""

    texts: list[str]
    labels: np.ndarray
    class_names: tuple[str, ...]


def load_text_csv(
    path: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str = "label",
    class_names: Sequence[str] | None = None,
    drop_labels: Iterable[str] = (),
) -> LabelledTexts:
    """Read labelled texts from a CSV file (any compression pandas infers).

    Parameters
    ----------
    path
        The CSV file.
    text_column, label_column
        Which columns hold the text and the label.
    class_names
        The labels in class-index order; default: the sorted distinct labels.
    drop_labels
        Rows with these labels are dropped first (e.g. Rotten Tomatoes' ``plot``).
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in (text_column, label_column):
        if column not in frame.columns:
            raise ValidationError(
                COLUMN_MESSAGE.format(path=path, column=column, columns=list(frame.columns))
            )
    labels = frame[label_column].str.strip()
    keep = ~labels.isin(set(drop_labels))
    frame, labels = frame[keep], labels[keep]
    names = tuple(class_names) if class_names is not None else tuple(sorted(labels.unique()))
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise ValidationError(
            LABELS_MESSAGE.format(path=path, unknown=unknown, class_names=list(names))
        )
    index = {name: i for i, name in enumerate(names)}
    return LabelledTexts(
        texts=frame[text_column].tolist(),
        labels=labels.map(index).to_numpy(dtype=np.int64),
        class_names=names,
    )


def build_vocab(
    token_lists: Iterable[list[str]], min_count: int = 2, max_size: int | None = None
) -> list[str]:
    """``[<pad>, <unk>, ...]`` tokens seen at least ``min_count`` times, most frequent
    first (ties alphabetical), at most ``max_size`` entries in all."""
    counts = Counter(t for tokens in token_lists for t in tokens)
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    if max_size is not None:
        ranked = ranked[: max(0, max_size - 2)]
    return [PAD, UNK, *ranked]
