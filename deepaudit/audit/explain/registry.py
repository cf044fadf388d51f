"""The attribution methods the explain family can run: built-in ones and your own.

A method is a :class:`MethodSpec`: where it applies, what it costs, how it runs. The
built-in ones (captum, shap, lime, attention) are known here by name and loaded on first
use; :func:`register_attribution` adds one of yours, which the audit then runs and scores
like the others (faithfulness, randomisation, stability, cost) and the report and the
dashboard show, with no other change::

    import deepaudit as da

    @da.register_attribution("gradient_x_input", label="Gradient × input", gradient=True)
    def gradient_x_input(forward, inputs, targets, baselines, seed):
        inputs = inputs.clone().requires_grad_(True)
        scores = forward(inputs)
        picked = scores.gather(1, targets[:, None]).sum() if targets is not None else scores.sum()
        (grad,) = torch.autograd.grad(picked, inputs)
        return grad * inputs

The protocol of such a function (see :func:`register_attribution`) is deliberately
small: the model as a differentiable ``forward`` (the audit swaps in a copy with
re-initialised weights for the randomisation check, so the method must call the
``forward`` it is given), the inputs, the explained classes, the baselines and a seed.
This module imports nothing heavy, so configs are checked without torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepaudit.errors import (
    UNKNOWN_NAME_MESSAGE,
    UnknownNameError,
    close_names_hint,
    parameter_error,
)
from deepaudit.plugins import load_plugins

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig

MODALITIES = ("image", "text", "tabular")

#: The built-in methods, in the order the family runs and shows them (the specs live in
#: :mod:`deepaudit.audit.explain.methods`, which imports captum, shap and lime).
BUILTIN_METHODS = (
    "integrated_gradients",
    "saliency",
    "smoothgrad",
    "deeplift",
    "gradient_shap",
    "occlusion",
    "feature_ablation",
    "grad_cam",
    "kernel_shap",
    "lime",
    "shap_gradient",
    "attention_rollout",
    "shap_deep",
)


@dataclass(frozen=True)
class MethodSpec:
    """One attribution method: where it applies, what it costs, how it runs.

    Parameters
    ----------
    name, label, library
        Key in configs and bundles, display name, and the library doing the work.
    modalities
        Data it explains.
    compute
        ``compute(case, subject, inputs, classes, config, seed) -> Attribution`` (the
        internal protocol; :func:`register_attribution` adapts a simpler one to it).
    estimate
        Model evaluations for ``n`` samples under a config (announced before a run).
    budget_field
        The config field cut (proportionally) when the estimate exceeds the budget.
    gradient
        Needs gradients with respect to the inputs (blind to integer-coded categories).
    stochastic
        Its result depends on the seed (measured for stability across seeds).
    requires
        Extra applicability check; returns why not, or ``None``.
    """

    name: str
    label: str
    library: str
    modalities: tuple[str, ...]
    compute: Callable[..., Any]
    estimate: Callable[[Case, ExplainConfig, int], int]
    budget_field: str | None = None
    gradient: bool = False
    stochastic: bool = False
    requires: Callable[[Case], str | None] | None = None
    description: str = ""

    def why_not(self, case: Case) -> str | None:
        """``None`` when the method applies to the case, else the reason."""
        if case.space.modality not in self.modalities:
            return f"{self.label} explains {' or '.join(self.modalities)} data, not {case.space.modality}"
        return None if self.requires is None else self.requires(case)


#: Names a method may not take: the random reference method, and the columns of the
#: tables that hold one column per method.
RESERVED_NAMES = (
    "random",
    "permutation",
    "feature",
    "kind",
    "sensitive",
    "sample",
    "position",
    "token",
)

_REGISTERED: dict[str, MethodSpec] = {}


def list_attributions() -> list[str]:
    """Names of every attribution method: the built-in ones, then those registered."""
    load_plugins()
    return [*BUILTIN_METHODS, *(n for n in _REGISTERED if n not in BUILTIN_METHODS)]


def all_methods() -> dict[str, MethodSpec]:
    """Every method's spec by name (imports the built-in adapters)."""
    load_plugins()
    builtin = importlib.import_module("deepaudit.audit.explain.methods").BUILTIN_SPECS
    return {**builtin, **_REGISTERED}


def get_method(name: str) -> MethodSpec:
    """The spec of method ``name``; an unknown name says which names are close."""
    methods = all_methods()
    try:
        return methods[name]
    except KeyError:
        raise UnknownNameError(
            UNKNOWN_NAME_MESSAGE.format(
                what="attribution method", name=name, hint=close_names_hint(name, list(methods))
            )
        ) from None


def register_attribution(
    name: str,
    compute: Callable | None = None,
    *,
    label: str | None = None,
    modalities: tuple[str, ...] = ("image", "tabular"),
    gradient: bool = False,
    stochastic: bool = False,
    evaluations_per_sample: int = 1,
    description: str = "",
) -> Callable:
    """Add an attribution method (usable as a decorator); returns ``compute``.

    ``compute(forward, inputs, targets, baselines, seed)`` receives

    - ``forward``: the explained score of a batch (logits N×C of a classifier, one score
      per sample otherwise), differentiable; call this one, not your own model;
    - ``inputs``: a float tensor of samples as the model takes them (N × input shape;
      text: token ids N×L), on the model's device;
    - ``targets``: the class explained for each sample (a long tensor N), or ``None``
      when the score has no classes;
    - ``baselines``: the reference inputs of the audit (like ``inputs``: zeros for
      images, the column means for tables, padding for text);
    - ``seed``: an int to seed any randomness with.

    It returns one attribution per input element (a tensor or array of the shape of
    ``inputs``; text: N×L, one per token). ``gradient`` says it reads input gradients
    (it then takes no part on integer-coded categorical columns), ``stochastic`` that its
    output depends on the seed (its stability is measured), ``evaluations_per_sample``
    how many model evaluations one sample costs (the budget reads it).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise parameter_error("name", "register_attribution", "a Python identifier", name)
    if name in BUILTIN_METHODS or name in RESERVED_NAMES:
        raise parameter_error(
            "name",
            "register_attribution",
            "a name no built-in method or table column has (not "
            + ", ".join(map(repr, RESERVED_NAMES))
            + ")",
            name,
        )
    bad = [m for m in modalities if m not in MODALITIES] if isinstance(modalities, tuple) else 1
    if bad or not modalities:
        raise parameter_error(
            "modalities",
            "register_attribution",
            "a non-empty tuple of " + ", ".join(map(repr, MODALITIES)),
            modalities,
        )
    if (
        isinstance(evaluations_per_sample, bool)
        or not isinstance(evaluations_per_sample, int)
        or (evaluations_per_sample < 1)
    ):
        raise parameter_error(
            "evaluations_per_sample",
            "register_attribution",
            "an int in the range [1, inf)",
            evaluations_per_sample,
        )

    def add(function: Callable) -> Callable:
        if not callable(function):
            raise parameter_error(
                "compute", "register_attribution", "a function (see its docstring)", function
            )
        from deepaudit.audit.explain.methods.custom import adapt

        _REGISTERED[name] = MethodSpec(
            name,
            label or name.replace("_", " ").capitalize(),
            getattr(function, "__module__", "user") or "user",
            tuple(modalities),
            adapt(function),
            lambda case, config, n: int(n * evaluations_per_sample),
            gradient=bool(gradient),
            stochastic=bool(stochastic),
            description=description or (function.__doc__ or "").strip().split("\n")[0],
        )
        return function

    return add if compute is None else add(compute)


def unregister_attribution(name: str) -> None:
    """Remove a method added with :func:`register_attribution`."""
    _REGISTERED.pop(name, None)
