"""Hugging Face ``transformers`` sequence classifiers as audit subjects, unwrapped.

A ``PreTrainedModel`` returns an output object, takes an ``attention_mask`` and has
several embedding layers (words, positions, token types). :class:`HuggingFaceClassifier`
makes it the module every audit expects: padded token ids in (padding id 0, as every
text audit assumes), logits out, the mask made from the padding on every call, so that
padding changes nothing and attributions on it are exactly zero. Token ids are swapped
so that the tokenizer's own padding id becomes 0 (and 0 takes its place), which keeps
the tokenizer's pieces as the vocabulary. ``transformers`` is the optional extra
``deepaudit[hf]``; nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from deepaudit.errors import described, parameter_error

_OWNER = "Target"
#: Where the wrapper keeps the user's model: the embedding layer's name starts with it.
INNER = "model"


def is_huggingface_model(model: object) -> bool:
    """A transformers model, told by its interface (no import of transformers)."""
    return (
        isinstance(model, nn.Module)
        and hasattr(model, "config")
        and callable(getattr(model, "get_input_embeddings", None))
        and type(model).__module__.startswith("transformers.")
    )


class HuggingFaceClassifier(nn.Module):
    """Padded ids (pad 0) to the logits of a transformers sequence classifier."""

    def __init__(self, model: nn.Module, pad_id: int) -> None:
        super().__init__()
        self.model = model
        self.pad_id = int(pad_id)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != 0).long()
        out = self.model(input_ids=swap_ids(ids, self.pad_id), attention_mask=mask)
        return out.logits if hasattr(out, "logits") else out[0]

    def embedding_path(self) -> str:
        """The attribute path of the word embeddings, from this module."""
        embeddings = self.model.get_input_embeddings()
        for name, module in self.model.named_modules():
            if module is embeddings:
                return f"{INNER}.{name}"
        raise parameter_error(  # pragma: no cover - transformers always registers it
            "model", _OWNER, "a model whose input embeddings are one of its modules", self.model
        )


def swap_ids(ids: torch.Tensor | np.ndarray, pad_id: int):
    """Ids with 0 and ``pad_id`` exchanged (its own inverse)."""
    if pad_id == 0:
        return ids
    if isinstance(ids, np.ndarray):
        return np.where(ids == 0, pad_id, np.where(ids == pad_id, 0, ids))
    pad = torch.full_like(ids, pad_id)
    return torch.where(ids == 0, pad, torch.where(ids == pad_id, torch.zeros_like(ids), ids))


def swap_vocab(vocab: Sequence[str], pad_id: int) -> list[str]:
    vocab = [str(t) for t in vocab]
    if pad_id:
        vocab[0], vocab[pad_id] = vocab[pad_id], vocab[0]
    return vocab


def pad_id_of(model: nn.Module, tokenizer: Any = None) -> int:
    """The padding id: the tokenizer's, else the model config's, else 0."""
    for source in (tokenizer, getattr(model, "config", None)):
        value = getattr(source, "pad_token_id", None)
        if isinstance(value, int) and value >= 0:
            return value
    return 0


def tokenizer_vocab(tokenizer: Any) -> list[str]:
    """The tokenizer's pieces, by id."""
    size = len(tokenizer)
    return [str(t) for t in tokenizer.convert_ids_to_tokens(list(range(size)))]


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int, pad_id: int) -> np.ndarray:
    """Token ids of ``texts`` with the tokenizer's special tokens, right-padded to
    ``max_length`` (and truncated), padding as 0."""
    if not isinstance(texts, Sequence) or isinstance(texts, str) or not texts:
        raise parameter_error("texts", _OWNER, "a non-empty list of strings", texts)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise parameter_error("texts", _OWNER, "strings only", described(f"a {type(bad).__name__}"))
    encoded = tokenizer(
        list(texts), padding="max_length", truncation=True, max_length=int(max_length)
    )["input_ids"]
    return swap_ids(np.asarray(encoded, dtype=np.int64), pad_id)


def check_output_width(model: nn.Module, class_names: Sequence[str] | None) -> None:
    """A classification head's width (``config.num_labels``) against ``class_names``."""
    width = getattr(getattr(model, "config", None), "num_labels", None)
    if class_names is not None and isinstance(width, int) and width != len(class_names):
        raise parameter_error(
            "class_names",
            _OWNER,
            f"one name per output of the model's head ({width}: config.num_labels)",
            list(class_names),
        )
