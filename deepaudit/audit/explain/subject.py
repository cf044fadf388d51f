"""The network an explanation is about, seen as one differentiable score per sample.

A classifier is explained through its logits (the method's target is the predicted
class), an autoencoder through its anomaly score (the mean squared reconstruction
error), a generator through its discriminator's logit on generated samples. A
:class:`Subject` holds that network apart from the Target, so the randomisation test
can put a copy with re-initialised layers in its place; every call is counted in the
Target's model evaluations.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn

from deepaudit.audit.device import gradient_context
from deepaudit.audit.target import Target, _as_two_logits
from deepaudit.errors import NotApplicableError, parameter_error


class Subject:
    """The explained network of a Target (or a copy of it) and its score.

    Parameters
    ----------
    target
        Supplies the kind, the device and the evaluation counter.
    module
        The network: the model (classifiers, autoencoders) or the discriminator
        (generators). Default: the target's.
    """

    def __init__(self, target: Target, module: nn.Module | None = None) -> None:
        self.target = target
        if module is None:
            module = target.discriminator if target.kind == "generator" else target.model
            if module is None:
                raise NotApplicableError(
                    "This generator has no discriminator, so there is no score to explain."
                )
        self.module = module
        self.kind = target.kind
        self.device = target.device

    @property
    def has_classes(self) -> bool:
        """Whether the score has one column per class (a method needs a target class)."""
        return self.kind == "classifier"

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """The differentiable score: logits N×C, or one number per sample (N)."""
        x = x.to(self.device)
        self.target.n_evaluations += int(x.shape[0])
        if torch.is_grad_enabled():  # a backward pass may follow (RNNs need care on CUDA)
            with gradient_context(self.module, self.device):
                return self._score(x)
        return self._score(x)

    def _score(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        if self.kind == "classifier":
            return _as_two_logits(out)
        if self.kind == "autoencoder":
            return ((out - x) ** 2).flatten(1).mean(dim=1)
        return out.reshape(x.shape[0], -1)[:, 0]

    def output(self, x: torch.Tensor, classes: torch.Tensor | None) -> torch.Tensor:
        """The number deletion and insertion curves follow, without gradients: the
        probability of the explained class, the anomaly score, or P(real)."""
        with torch.no_grad():
            out = self.score(x)
            if self.kind == "classifier":
                proba = torch.softmax(out.double(), dim=1)
                return proba[torch.arange(len(out)), classes.to(out.device)].float().cpu()
            if self.kind == "generator":
                return torch.sigmoid(out).float().cpu()
            return out.float().cpu()

    def picked(self, x: torch.Tensor, classes: torch.Tensor | None) -> torch.Tensor:
        """The explained scalar per sample, with gradients (the logit of the class)."""
        out = self.score(x)
        if classes is None:
            return out
        return out.gather(1, classes.to(out.device).reshape(-1, 1))[:, 0]

    def as_module(self, two_d: bool = False) -> ScoreModule:
        """The score as an ``nn.Module`` (for DeepLift and SHAP, which hook modules)."""
        return ScoreModule(self, two_d)

    def with_module(self, module: nn.Module) -> Subject:
        return Subject(self.target, module)


class ScoreModule(nn.Module):
    """``Subject.score`` as a module; ``two_d`` turns an N score into N×1 (for SHAP)."""

    def __init__(self, subject: Subject, two_d: bool = False) -> None:
        super().__init__()
        self.net = subject.module
        self._subject = subject
        self._two_d = two_d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._subject.score(x)
        return out.reshape(len(out), -1) if self._two_d else out


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block with torch's RNG (CPU and the device's CUDA RNG) seeded, then restore it."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def find_layer(module: nn.Module, name: str | None, kind: type | tuple[type, ...]) -> str | None:
    """The name of a module: ``name`` when given (checked), else the last of type ``kind``."""
    modules = dict(module.named_modules())
    if name is not None:
        if name not in modules or name == "":
            raise parameter_error(
                "layer",
                "ExplainConfig",
                "the name of a module of the model ("
                + ", ".join(sorted(n for n in modules if n)[:12])
                + ")",
                name,
            )
        return name
    found = [n for n, m in modules.items() if isinstance(m, kind)]
    return found[-1] if found else None


def last_feature_map_layer(module: nn.Module, sample: torch.Tensor) -> str | None:
    """The layer Grad-CAM hooks when none is named: of the modules holding a ``Conv2d``,
    the last to finish a forward pass of ``sample`` with a feature map (N×C×H×W, H and
    W over 1).

    In torchvision and timm CNNs that is the last stage (ResNet's ``layer4``, ConvNeXt's
    ``stages``, VGG's ``features``), the map the head pools; the last ``Conv2d``
    registered sits before the residual sum, or in a branch. ``None`` when the network's
    own output is a map (an autoencoder: every layer's output is one) or no map is seen.
    """
    with_conv = {
        name
        for name, m in module.named_modules()
        if name and any(isinstance(sub, nn.Conv2d) for sub in m.modules())
    }
    finished: list[tuple[str, tuple[int, ...]]] = []

    def record(name: str):
        def hook(_module, _inputs, output) -> None:
            if isinstance(output, torch.Tensor):
                finished.append((name, tuple(output.shape)))

        return hook

    handles = [
        m.register_forward_hook(record(name))
        for name, m in module.named_modules()
        if name in with_conv
    ]
    try:
        with torch.no_grad():
            output = module(sample)
    except Exception:
        return None
    finally:
        for handle in handles:
            handle.remove()
    if not isinstance(output, torch.Tensor) or _is_map(tuple(output.shape)):
        return None
    for name, shape in reversed(finished):
        if _is_map(shape):
            return name
    return None


def _is_map(shape: tuple[int, ...]) -> bool:
    """N×C×H×W with H and W over 1 (a DCGAN critic's N×1×1×1 output is no map)."""
    return len(shape) == 4 and shape[2] > 1 and shape[3] > 1


def layer_of(module: nn.Module, name: str) -> nn.Module:
    return dict(module.named_modules())[name]


def parameterised_layers(module: nn.Module) -> list[str]:
    """Names of the modules owning parameters directly, input side first."""
    return [
        name for name, m in module.named_modules() if any(True for _ in m.parameters(recurse=False))
    ]


def randomised_copy(module: nn.Module, n_top: int, seed: int) -> nn.Module:
    """A copy of ``module`` whose ``n_top`` layers nearest the output are re-initialised.

    Layers re-initialise with their own ``reset_parameters``; parameters of a module
    without one are drawn from a normal with their own standard deviation. This is the
    cascading model-parameter randomisation of Adebayo et al. (2018).
    """
    clone = copy.deepcopy(module)
    names = parameterised_layers(clone)
    modules = dict(clone.named_modules())
    device = next(clone.parameters()).device
    with seeded(seed, device), torch.no_grad():
        for name in names[len(names) - n_top :]:
            layer = modules[name]
            reset = getattr(layer, "reset_parameters", None) or getattr(
                layer, "_reset_parameters", None
            )
            if callable(reset) and (layer is not clone or not any(True for _ in clone.children())):
                reset()
                continue
            for param in layer.parameters(recurse=False):
                std = float(param.std()) if param.numel() > 1 else 1.0
                param.normal_(0.0, std if std > 0 else 0.02)
    return clone.eval()
