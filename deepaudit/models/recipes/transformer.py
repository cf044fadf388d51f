"""``transformer``: an FT-Transformer predicting income > 50K on UCI Adult."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.architectures.ft_transformer import FTTransformer
from deepaudit.models.datasets import adult
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

MODEL_KWARGS = {"d_token": 32, "n_layers": 2, "n_heads": 4, "ffn_factor": 2, "dropout": 0.1}


def _tensors(frame, encoding: adult.AdultEncoding) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(encoding.encode_codes(frame))
    y = torch.from_numpy(frame[adult.LABEL].to_numpy(dtype=np.int64, copy=True))
    return x, y


def _feature_ranges(x: np.ndarray, encoding: adult.AdultEncoding) -> dict[str, list[float]]:
    """Valid range per column: the observed training range for numerics, all codes for
    categoricals."""
    ranges = {}
    for j, (feature, card) in enumerate(
        zip(encoding.features, encoding.cardinalities, strict=True)
    ):
        if card:
            ranges[feature] = [0.0, float(card - 1)]
        else:
            ranges[feature] = [float(x[:, j].min()), float(x[:, j].max())]
    return ranges


@register_model(
    ModelSpec(
        name="transformer",
        kind="classifier",
        modality="tabular",
        dataset="UCI Adult census income (32,561 training rows, 16,281 test rows)",
        licence="data CC BY 4.0 (Becker & Kohavi 1996); weights Apache-2.0",
        description=(
            "Predicts whether a person's income exceeds $50K from 13 census attributes "
            "(sex and race among them). Inputs are one float tensor: standardised numeric "
            "columns and integer-coded categorical columns."
        ),
        architecture="FT-Transformer: a token per feature, 2-layer transformer encoder, [CLS] head",
        floors=(
            Floor("accuracy", 0.84, description="accuracy on adult.test"),
            Floor("roc_auc", 0.88, description="ROC AUC on adult.test"),
        ),
        sensitive=("sex", "race", "age_band"),
        planted_cues=(
            "None planted; sex, race and age are model inputs, so the data's own "
            "associations (e.g. the income gap between men and women) are learnt."
        ),
        limitations=(
            "1994 US census data; fnlwgt (a survey weight) is left out; missing values "
            "are an 'Unknown' category. Group metrics on small race groups are noisy."
        ),
    )
)
class TransformerRecipe(Recipe):
    config = TrainConfig(epochs=20, batch_size=256, lr=1e-3, weight_decay=1e-4, patience=4)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {"model": FTTransformer(**model_kwargs["model"])}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = adult.adult_splits(SPLIT_SEED)
        encoding = adult.AdultEncoding.fit(splits["train"])
        train = head(_tensors(splits["train"], encoding), limit)
        validation = _tensors(splits["validation"], encoding)
        kwargs = {"cardinalities": encoding.cardinalities, **MODEL_KWARGS}
        model = FTTransformer(**kwargs)
        result = train_classifier(
            model,
            train,
            validation,
            config=config,
            seed=seed,
            device=device,
            desc="transformer",
            clip_norm=1.0,
        )
        return Trained(
            modules={"model": model},
            model_kwargs={"model": kwargs},
            preprocessing={
                "split_seed": SPLIT_SEED,
                "encoding": encoding.to_dict(),
                "feature_ranges": _feature_ranges(train[0].numpy(), encoding),
            },
            result=result,
            data_sha256=adult.vendored_sha256(),
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        encoding = adult.AdultEncoding.from_dict(pre["encoding"])
        test = adult.adult_splits(pre["split_seed"])["test"]
        x, y = _tensors(test, encoding)
        return Target(
            modules["model"],
            kind="classifier",
            modality="tabular",
            data=x,
            labels=y.numpy(),
            class_names=list(adult.CLASS_NAMES),
            sensitive=adult.sensitive_attributes(test),
            feature_names=list(encoding.features),
            categorical_features={c: [c] for c in adult.CATEGORICAL},
            feature_ranges={k: tuple(v) for k, v in pre["feature_ranges"].items()},
            name=self.spec.name,
            metadata={"split": "adult.test (held out)"},
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        proba = target.predict_proba()[:, 1]
        labels = target.labels
        metrics = {
            "accuracy": accuracy(proba > 0.5, labels),
            "roc_auc": float(roc_auc_score(labels, proba)),
            "n_test": len(labels),
        }
        for attribute in ("sex", "race"):
            groups = target.sensitive[attribute].to_numpy()
            for group in np.unique(groups):
                mask = groups == group
                metrics[f"accuracy[{attribute}={group}]"] = accuracy(
                    proba[mask] > 0.5, labels[mask]
                )
                metrics[f"positive_rate[{attribute}={group}]"] = float(np.mean(proba[mask] > 0.5))
        return metrics
