"""Full-size vision models for tests and benchmarks: torchvision's and timm's ResNet-18
(random weights, no download) on the coloured digits upsampled to 224 x 224."""

from __future__ import annotations

import functools
import importlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

# torchvision's detection ops whose fake kernels it registers unconditionally on import.
_DETECTION_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_LIBRARY: list = []


@functools.cache
def torchvision():
    """torchvision, or ``None`` when it is not installed.

    The registry's only torchvision build for torch 2.13 is a CUDA one; beside a CPU
    torch its compiled ops (nms, roi_align: detection only) do not load, and its import
    then fails registering a fake kernel for ``torchvision::nms``. The classification
    models are pure Python, so the two ops' schemas are declared and the import retried;
    calling those ops would still fail, and no test does.
    """
    try:
        return importlib.import_module("torchvision")
    except ImportError:
        return None
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for schema in _DETECTION_OPS:
        library.define(schema)
    _LIBRARY.append(library)  # a Library unregisters its definitions when collected
    return importlib.import_module("torchvision")


@functools.cache
def timm():
    """timm (which imports torchvision), or ``None`` when either is missing."""
    if torchvision() is None:
        return None
    try:
        return importlib.import_module("timm")
    except ImportError:
        return None


def resnet18(source: str = "torchvision", n_classes: int = 10, seed: int = 0) -> torch.nn.Module:
    """A ResNet-18 with random weights from ``source`` ("torchvision" or "timm")."""
    torch.manual_seed(seed)
    if source == "torchvision":
        return torchvision().models.resnet18(weights=None, num_classes=n_classes).eval()
    return timm().create_model("resnet18", pretrained=False, num_classes=n_classes).eval()


def digits_224(n: int, seed: int = 0) -> dict[str, object]:
    """``n`` held-out coloured digits (real MNIST, tinted) upsampled to 3 x 224 x 224 in
    [0, 1], with their labels and colour names."""
    from deepaudit.models.datasets import digits
    from deepaudit.models.recipes.cnn import coloured_splits

    test = coloured_splits(0)["test"]
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(test["y"]), size=n, replace=False))
    x = F.interpolate(test["x"][pick], size=(224, 224), mode="bilinear", align_corners=False)
    return {
        "x": x.clamp(0.0, 1.0),
        "y": test["y"][pick].numpy(),
        "colour": np.asarray(digits.COLOUR_NAMES)[test["colour"][pick]],
        "class_names": list(digits.CLASS_NAMES),
    }
