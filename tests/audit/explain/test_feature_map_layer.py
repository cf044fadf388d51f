"""Grad-CAM's layer when none is named: the last layer whose output is a feature map,
found by a forward pass (torchvision's and timm's CNNs, a branch registered last, an
autoencoder)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.explain.subject import find_layer, last_feature_map_layer
from tests.audit import vision_toys


class _SideBranchNet(nn.Module):
    """The trunk's conv is registered first, an auxiliary 1x1 conv on the input last:
    the last ``Conv2d`` registered is not where the head's feature map comes from."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(8, 2)
        self.aux = nn.Conv2d(3, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.aux(x)).mean()  # runs first, feeds a scalar
        features = self.trunk(x) * gate
        return self.head(features.mean(dim=(2, 3)))


class _ConvAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encode = nn.Conv2d(1, 4, 3, padding=1)
        self.decode = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.relu(self.encode(x)))


def test_a_branch_registered_last_is_not_the_feature_map():
    model = _SideBranchNet().eval()
    assert find_layer(model, None, nn.Conv2d) == "aux"  # the registration-order rule
    assert last_feature_map_layer(model, torch.rand(1, 3, 16, 16)) == "trunk"


def test_a_network_whose_output_is_a_map_gets_no_answer():
    assert last_feature_map_layer(_ConvAutoencoder(), torch.rand(1, 1, 8, 8)) is None


def test_a_map_pooled_to_one_pixel_is_not_a_feature_map():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Conv2d(4, 2, 1), nn.Flatten()
    )
    # The 1x1 conv after the pool holds a Conv2d but its output has no spatial extent.
    assert last_feature_map_layer(model, torch.rand(1, 3, 8, 8)) == "0"


@pytest.mark.skipif(vision_toys.torchvision() is None, reason="torchvision is not installed")
@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        ("resnet18", "layer4"),
        ("vgg11", "features"),
        ("mobilenet_v3_small", "features"),
        ("densenet121", "features"),
    ],
)
def test_torchvision_classifiers_are_hooked_at_their_last_stage(builder, expected):
    model = getattr(vision_toys.torchvision().models, builder)(weights=None).eval()
    assert last_feature_map_layer(model, torch.rand(1, 3, 64, 64)) == expected


@pytest.mark.skipif(vision_toys.timm() is None, reason="timm is not installed")
@pytest.mark.parametrize(
    ("name", "expected"),
    [("resnet18", "layer4"), ("convnext_atto", "stages"), ("efficientnet_b0", "conv_head")],
)
def test_timm_classifiers_are_hooked_at_their_last_stage(name, expected):
    model = vision_toys.timm().create_model(name, pretrained=False, num_classes=3).eval()
    assert last_feature_map_layer(model, torch.rand(1, 3, 64, 64)) == expected


def _image_target(model: nn.Module, n: int = 6, size: int = 16, **kwargs) -> da.Target:
    rng = np.random.default_rng(0)
    return da.Target(
        model,
        modality="image",
        data=torch.from_numpy(rng.random((n, 3, size, size), dtype=np.float32)),
        labels=np.arange(n) % 2,
        class_names=["a", "b"],
        input_range=(0.0, 1.0),
        **kwargs,
    )


def _explain(target: da.Target, **options):
    config = da.AuditConfig(
        families=("explain",),
        options={"explain": {"methods": ["grad_cam"], "n_samples": 4, **options}},
        progress=False,
    )
    return da.run_audit(target, config)["explain"]


def _captum_grad_cam(model: nn.Module, layer: nn.Module, result) -> np.ndarray:
    """captum's LayerGradCam on ``layer`` for the explained samples, upsampled as the
    audit does (bilinear, spread evenly over the channels)."""
    from captum.attr import LayerAttribution, LayerGradCam

    x = torch.from_numpy(result.arrays["inputs"])
    classes = torch.from_numpy(result.arrays["classes"])
    cam = LayerGradCam(model, layer).attribute(x, target=classes, relu_attributions=True)
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    return (cam.expand(-1, x.shape[1], -1, -1) / x.shape[1]).detach().numpy()


@pytest.mark.parametrize(("named", "expected"), [(None, "trunk"), ("aux", "aux")])
def test_the_audit_hooks_the_found_layer_or_the_named_one(named, expected):
    torch.manual_seed(0)
    model = _SideBranchNet().eval()
    options = {} if named is None else {"layer": named}
    result = _explain(_image_target(model), **options)
    announced = [n for n in result.notes if n.startswith("Grad-CAM hooked")]
    if named is None:
        assert len(announced) == 1 and "`trunk`" in announced[0]
    else:
        assert announced == []
    maps = result.arrays["attributions_grad_cam"]
    assert np.abs(maps).max() > 0
    np.testing.assert_allclose(
        maps, _captum_grad_cam(model, getattr(model, expected), result), rtol=1e-5, atol=1e-7
    )
    other = "aux" if expected == "trunk" else "trunk"
    assert not np.allclose(maps, _captum_grad_cam(model, getattr(model, other), result))


def test_a_critic_whose_output_is_one_pixel_is_hooked_at_its_last_map():
    critic = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 8))
    assert tuple(critic(torch.rand(1, 3, 16, 16)).shape) == (1, 1, 1, 1)
    assert last_feature_map_layer(critic, torch.rand(1, 3, 16, 16)) == "0"


def test_a_model_that_fails_on_one_sample_keeps_the_last_conv():
    class NeedsTwo(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            if len(x) < 2:
                raise RuntimeError("batch of one")
            return self.conv(x).mean(dim=(1, 2, 3))[:, None]

    assert last_feature_map_layer(NeedsTwo(), torch.rand(1, 3, 8, 8)) is None
