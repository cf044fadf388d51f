"""Tiny Hugging Face models and a WordPiece tokenizer trained here, offline, on the
shipped Rotten Tomatoes snippets (no download)."""

from __future__ import annotations

import functools

import numpy as np
import torch

from deepaudit.models.datasets import load_rotten_tomatoes

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@functools.lru_cache(maxsize=1)
def tokenizer(vocab_size: int = 600):
    """A BERT-style WordPiece tokenizer trained on 3,000 snippets (small vocabulary, so
    that many words become several pieces)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import WordPieceTrainer
    from transformers import PreTrainedTokenizerFast

    texts = load_rotten_tomatoes().texts[:3000]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def bert(kind: str = "bert", seed: int = 0):
    """A 2-layer, 32-wide BERT or DistilBERT sequence classifier with random weights."""
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        DistilBertConfig,
        DistilBertForSequenceClassification,
    )

    torch.manual_seed(seed)
    size = len(tokenizer())
    if kind == "bert":
        config = BertConfig(
            vocab_size=size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=64, max_position_embeddings=64, num_labels=2,
            pad_token_id=tokenizer().pad_token_id,
        )  # fmt: skip
        return BertForSequenceClassification(config).eval()
    config = DistilBertConfig(
        vocab_size=size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=64, num_labels=2, pad_token_id=tokenizer().pad_token_id,
    )  # fmt: skip
    return DistilBertForSequenceClassification(config).eval()


def texts(n: int = 48, seed: int = 0) -> tuple[list[str], np.ndarray]:
    corpus = load_rotten_tomatoes()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(corpus.texts), n, replace=False)
    return [corpus.texts[i][:120] for i in rows], corpus.labels[rows]
