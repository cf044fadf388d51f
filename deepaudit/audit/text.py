"""The default text tokenisation of text targets: lower-cased words and punctuation.

The identity-term swaps of the fairness family turn template sentences into token ids
with it, and the reference text model is trained with it. A vocabulary is a list of
tokens whose index is the token id: ``0`` is ``<pad>``, ``1`` is ``<unk>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
TOKEN_PATTERN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens (an apostrophe part such as ``n't`` kept)."""
    return TOKEN_PATTERN.findall(text.lower().replace("\u2019", "'"))


def encode(token_lists: Sequence[list[str]], vocab: Sequence[str], max_len: int) -> np.ndarray:
    """Right-padded ``N×max_len`` int64 token ids (unknown tokens -> ``<unk>``)."""
    index = {t: i for i, t in enumerate(vocab)}
    out = np.full((len(token_lists), max_len), PAD_ID, dtype=np.int64)
    for row, tokens in enumerate(token_lists):
        ids = [index.get(t, UNK_ID) for t in tokens[:max_len]] or [UNK_ID]
        out[row, : len(ids)] = ids
    return out
