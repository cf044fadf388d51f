"""The feature space in which generated and real samples are compared.

Distances between raw pixels say little about whether two digits look alike; the
penultimate features of a classifier trained on the same kind of data do better (the
idea behind FID). A generator's Target may carry such a classifier
(``Target(label_model=...)``, a module with a ``features(x)`` method). Without one, samples are compared as flattened values, or through a seeded
Gaussian random projection (scikit-learn's) when they are too wide for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.random_projection import GaussianRandomProjection
from torch import nn

from deepaudit.audit.target import Target
from deepaudit.errors import ValidationError

#: ``feature_space="auto"`` compares flattened samples up to this many values each.
AUTO_PIXEL_LIMIT = 1024

NO_LABEL_MODEL_MESSAGE = (
    "The 'feature_space' parameter of GenerativeConfig is 'label_model', but the target "
    "has no label model with a features(x) method (set Target(label_model=...))."
)


@dataclass
class FeatureSpace:
    """A named map from samples (N × sample shape) to feature rows (N × D, float64).

    ``classifier`` is the label model when the space comes from one (it also labels
    the sample grid), else ``None``.
    """

    name: str
    transform: Callable[[np.ndarray], np.ndarray]
    classifier: nn.Module | None = None

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        return self.transform(samples)


def flatten(samples: np.ndarray) -> np.ndarray:
    """Samples as float64 rows."""
    samples = np.asarray(samples)
    return samples.reshape(len(samples), -1).astype(np.float64)


def label_model(target: Target) -> nn.Module | None:
    """The target's label model when it has a ``features(x)`` method, else ``None``."""
    module = target.label_model
    if module is None or not callable(getattr(module, "features", None)):
        return None
    return module


def forward_rows(
    fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, device: torch.device, batch: int
) -> np.ndarray:
    """``fn`` over ``x`` in batches without gradients, flattened to float64 rows."""
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + batch]))
            out.append(fn(chunk.to(device).float()).flatten(1).double().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0))


def feature_space(target: Target, space: str, projection_dim: int, seed: int) -> FeatureSpace:
    """Resolve ``space`` (``"auto"``, ``"label_model"``, ``"pixels"``, ``"projection"``)
    for ``target``; fails before any work when it cannot be built."""
    classifier = label_model(target) if space in ("auto", "label_model") else None
    if space == "label_model" and classifier is None:
        raise ValidationError(NO_LABEL_MODEL_MESSAGE)
    if classifier is not None:
        return FeatureSpace(
            f"label_model:{target.label_model_name}",
            lambda x: forward_rows(classifier.features, x, target.device, target.batch_size),
            classifier,
        )
    width = int(np.prod(target.reference_data.shape[1:]))
    if space == "pixels" or (space == "auto" and width <= AUTO_PIXEL_LIMIT):
        return FeatureSpace("pixels", flatten)
    dim = min(projection_dim, width)
    projection = GaussianRandomProjection(n_components=dim, random_state=seed)
    projection.fit(np.zeros((1, width)))  # the matrix depends only on the width and seed
    return FeatureSpace(f"projection:{dim}", lambda x: projection.transform(flatten(x)))


def predicted_classes(classifier: nn.Module, samples: np.ndarray, target: Target) -> np.ndarray:
    """The label model's predicted class of each sample (to caption the sample grid)."""
    logits = forward_rows(classifier, samples, target.device, target.batch_size)
    return logits.argmax(axis=1).astype(np.int64)
