"""The built-in attribution methods, each a thin adapter over captum, shap or lime.

``BUILTIN_SPECS`` maps each built-in method's name to its :class:`MethodSpec` (the
registry, :mod:`deepaudit.audit.explain.registry`, adds the user's own);
``default_methods`` gives the fast set of a modality and ``applicable_methods`` every
registered method that fits a case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepaudit.audit.explain.methods import _attention, _captum, _lime, _shap
from deepaudit.audit.explain.methods.base import Attribution
from deepaudit.audit.explain.registry import BUILTIN_METHODS, MethodSpec, all_methods

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case

_ALL = ("image", "text", "tabular")
_DENSE = ("image", "tabular")


def _per_sample(cost):
    return lambda case, config, n: int(n * cost(case, config))


def _features(case) -> int:
    return case.space.n_features


def _occlusion_cost(case, config) -> int:
    if case.space.modality == "text":
        return int((case.inputs != 0).sum(dim=1).max()) + 2
    return _captum.n_windows(case, config.occlusion_window) + 1


def _gradient_shap_cost(case, config, n) -> int:
    if case.blind.any():  # codes held: no completeness pass
        return n * config.n_noise_samples
    return n * (config.n_noise_samples + 1) + len(case.background)


def _kernel_shap_cost(case, config) -> int:
    # shap enumerates every coalition when there are fewer than the sample budget.
    coalitions = min(config.kernel_shap_samples, 2 ** min(case.space.n_features, 30) - 2)
    return (coalitions + 1) * config.kernel_shap_background + 1


_SPECS = [
    MethodSpec(
        "integrated_gradients", "Integrated Gradients", "captum", _ALL,
        _captum.integrated_gradients,
        _per_sample(lambda case, c: c.n_steps + (4 if case.space.modality == "text" else 2)),
        budget_field="n_steps", gradient=True,
        description="Path integral of gradients from the baseline (Sundararajan et al., 2017); "
        "on text, layer IG on the embedding.",
    ),
    MethodSpec(
        "saliency", "Saliency", "captum", _DENSE, _captum.saliency,
        _per_sample(lambda case, c: 1), gradient=True,
        description="Absolute gradient of the explained output.",
    ),
    MethodSpec(
        "smoothgrad", "SmoothGrad", "captum", _DENSE, _captum.smoothgrad,
        _per_sample(lambda case, c: c.n_noise_samples),
        budget_field="n_noise_samples", gradient=True, stochastic=True,
        description="Saliency averaged over noisy inputs (NoiseTunnel).",
    ),
    MethodSpec(
        "deeplift", "DeepLift", "captum", _DENSE, _captum.deeplift,
        _per_sample(lambda case, c: 4), gradient=True,
        requires=_captum.no_recurrent_layers,
        description="DeepLift's rescale rule from the baseline.",
    ),
    MethodSpec(
        "gradient_shap", "GradientSHAP", "captum", _DENSE, _captum.gradient_shap,
        _gradient_shap_cost,
        budget_field="n_noise_samples", gradient=True, stochastic=True,
        description="Expected gradients against a background sample.",
    ),
    MethodSpec(
        "occlusion", "Occlusion", "captum", ("image", "text"), _captum.occlusion,
        _per_sample(_occlusion_cost),
        description="Output change when a window (image) or a token (text) is removed.",
    ),
    MethodSpec(
        "feature_ablation", "Feature ablation", "captum", ("tabular",),
        _captum.feature_ablation,
        _per_sample(lambda case, c: _features(case) + 1),
        description="Output change when a feature is set to its reference value.",
    ),
    MethodSpec(
        "grad_cam", "Grad-CAM", "captum", ("image",), _captum.grad_cam,
        _per_sample(lambda case, c: 1), requires=_captum.needs_conv_layer,
        description="Gradient-weighted activations of the last conv layer, upsampled.",
    ),
    MethodSpec(
        "kernel_shap", "KernelSHAP", "shap", ("tabular",), _shap.kernel_shap,
        _per_sample(_kernel_shap_cost),
        budget_field="kernel_shap_samples", stochastic=True,
        description="Shapley values by weighted regression over feature coalitions, "
        "against a k-means summary of the data.",
    ),
    MethodSpec(
        "lime", "LIME", "lime", _ALL, _lime.lime,
        _per_sample(lambda case, c: c.lime_samples),
        budget_field="lime_samples", stochastic=True,
        description="A local linear surrogate over superpixels, tokens or features.",
    ),
    MethodSpec(
        "shap_gradient", "SHAP GradientExplainer", "shap", ("image",), _shap.shap_gradient,
        lambda case, c, n: n * (c.n_noise_samples + 1) + len(case.background),
        budget_field="n_noise_samples", gradient=True, stochastic=True,
        description="shap's expected gradients against a background sample.",
    ),
    MethodSpec(
        "attention_rollout", "Attention rollout", "torch", ("text", "tabular"),
        _attention.attention_rollout, _per_sample(lambda case, c: 1),
        requires=_attention.has_attention,
        description="Attention weights rolled out over layers (Abnar & Zuidema, 2020); "
        "unsigned and class-agnostic: where information flows, not why.",
    ),
    MethodSpec(
        "shap_deep", "SHAP DeepExplainer", "shap", ("image",), _shap.shap_deep,
        lambda case, c, n: n * 2 * (len(case.background) + 1) + 2 * len(case.background),
        gradient=True,
        requires=_captum.no_recurrent_layers,
        description="DeepLIFT against a background distribution (shap).",
    ),
]  # fmt: skip

BUILTIN_SPECS: dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}
assert tuple(BUILTIN_SPECS) == BUILTIN_METHODS, "registry.BUILTIN_METHODS is out of date"

#: The fast methods of each modality (the default config).
DEFAULT_METHODS = {
    "image": ("integrated_gradients", "saliency", "gradient_shap", "occlusion", "grad_cam"),
    "text": ("integrated_gradients", "occlusion", "lime", "attention_rollout"),
    "tabular": (
        "integrated_gradients",
        "gradient_shap",
        "feature_ablation",
        "kernel_shap",
        "attention_rollout",
    ),
}


def default_methods(case: Case) -> list[str]:
    """The fast methods of the case's modality that apply to it."""
    names = DEFAULT_METHODS[case.space.modality]
    return [n for n in names if BUILTIN_SPECS[n].why_not(case) is None]


def applicable_methods(case: Case) -> list[str]:
    """Every registered method that applies to the case."""
    return [n for n, spec in all_methods().items() if spec.why_not(case) is None]


__all__ = [
    "BUILTIN_SPECS",
    "DEFAULT_METHODS",
    "Attribution",
    "MethodSpec",
    "applicable_methods",
    "default_methods",
]
