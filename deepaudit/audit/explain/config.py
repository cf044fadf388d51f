"""``ExplainConfig``: which attribution methods run, on how many samples, with what budgets.

The defaults are fast (8 explained samples, the cheap methods of each modality, short
quality checks); :meth:`ExplainConfig.thorough` returns the budgets of a full audit.
Constraints are data, checked in one place when the config is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepaudit._validation import (
    NONE,
    InstanceOf,
    Interval,
    Names,
    OneOf,
    Satisfies,
    SubsetOf,
)
from deepaudit.audit.explain.registry import list_attributions
from deepaudit.configs import Config

OWNER = "ExplainConfig"


def _is_regions(value: Any) -> bool:
    """Names to non-empty masks (nested lists) or lists of names: checked against the
    target later (:func:`.regions.check_regions`)."""
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(k, str) and k for k in value)
        and all(isinstance(v, list | tuple) and len(v) > 0 for v in value.values())
    )


EXPLAIN_CONSTRAINTS = {
    "methods": [NONE, OneOf(("all",)), SubsetOf(list_attributions)],
    "n_samples": [Interval(int, 2, 10_000)],
    "n_steps": [Interval(int, 2, 10_000)],
    "max_steps": [Interval(int, 2, 100_000)],
    "n_noise_samples": [Interval(int, 1, 10_000)],
    "noise_level": [Interval(float, 0, 1, closed="right")],
    "n_background": [Interval(int, 1, 10_000)],
    "occlusion_window": [Interval(int, 1, 1024)],
    "kernel_shap_samples": [Interval(int, 16, 100_000)],
    "kernel_shap_background": [Interval(int, 1, 1000)],
    "lime_samples": [Interval(int, 16, 100_000)],
    "lime_segmentation": [OneOf(("slic", "felzenszwalb", "grid"))],
    "n_seeds": [Interval(int, 2, 100)],
    "n_curve_steps": [Interval(int, 2, 1000)],
    "n_perturbations": [Interval(int, 0, 10_000)],
    "n_sensitivity": [Interval(int, 0, 1000)],
    "sensitivity_radius": [Interval(float, 0, 1, closed="right")],
    "randomisation_stages": [Interval(int, 0, 100)],
    "n_sanity_samples": [Interval(int, 1, 10_000)],
    "randomisation_repeats": [Interval(int, 1, 100)],
    "confidence": [Interval(float, 0, 1, closed="neither")],
    "top_k": [Interval(int, 1, 1000)],
    "permutation_samples": [Interval(int, 0, 100_000)],
    "max_evaluations": [Interval(int, 1, None)],
    "max_check_evaluations": [Interval(int, 0, None)],
    "max_gflop": [NONE, Interval(float, 0, None, closed="right")],
    "max_check_gflop": [NONE, Interval(float, 0, None, closed="right")],
    "max_randomisation_similarity": [Interval(float, -1, 1)],
    "min_stability": [Interval(float, -1, 1)],
    "max_completeness_gap": [Interval(float, 0, None)],
    "max_sensitive_share": [Interval(float, 0, 1)],
    "max_colour_share": [Interval(float, 0, 1)],
    "regions": [
        NONE,
        Satisfies(
            _is_regions,
            "a dict from a region's name to its mask: a boolean array over an image, or a "
            "list of feature names (tabular) or of tokens (text)",
            {"corner": []},
        ),
    ],
    "max_region_enrichment": [Interval(float, 1, None)],
    "proxy_auc": [Interval(float, 0.5, 1)],
    "min_proxy_share": [Interval(float, 0, 1)],
    "sensitive_features": [
        NONE,
        Names("a non-empty list of distinct feature names", non_empty=True),
    ],
    "layer": [NONE, InstanceOf((str,), "the name of a module of the model")],
    "n_threads": [NONE, Interval(int, 1, None)],
    "every_row": [InstanceOf((bool,), "a bool")],
    "progress": [InstanceOf((bool,), "a bool")],
}


@dataclass(frozen=True)
class ExplainConfig(Config):
    """Budgets and limits of the explain family.

    Parameters
    ----------
    methods
        Attribution methods to run (``deepaudit.audit.explain.list_attributions()``,
        your own included: ``deepaudit.register_attribution``); ``None`` runs the fast
        defaults of the target's modality, ``"all"`` every method that applies (the
        thorough config).
    n_samples
        Samples explained, drawn with the seed and stratified over the sensitive attribute
        with the fewest groups.
    n_steps, max_steps
        Integrated Gradients' steps (Gauss-Legendre): it starts with ``n_steps`` and
        doubles them until its attributions add up to the output difference within
        ``max_completeness_gap``, or ``max_steps`` is reached (the steps used are in the
        quality table).
    n_noise_samples, noise_level
        Samples of SmoothGrad and GradientSHAP; SmoothGrad's noise as a fraction of the
        input range.
    n_background
        Background samples of GradientSHAP, SHAP and KernelSHAP's k-means summary.
    occlusion_window
        Side of Occlusion's square window on images, in pixels (stride = window).
    kernel_shap_samples, lime_samples
        Coalitions KernelSHAP and perturbed samples LIME draw per explained sample.
    kernel_shap_background
        k-means centres summarising the data for KernelSHAP (each coalition is evaluated
        against every centre).
    lime_segmentation
        How LIME splits an image into features: ``"slic"`` or ``"felzenszwalb"``
        superpixels tuned for small images, or a ``"grid"`` of occlusion-window cells.
    n_seeds
        Seeds each stochastic method runs with to measure its stability.
    n_curve_steps
        Points of the deletion and insertion curves.
    n_perturbations
        Random feature removals of captum's infidelity (0 skips it).
    n_sensitivity, sensitivity_radius
        Perturbed inputs of captum's sensitivity-max (0 skips it) and their radius, a
        fraction of the input range.
    randomisation_stages
        Copies of the model in the randomisation test: the top layer re-initialised,
        then more layers, down to all of them (0 skips the test).
    n_sanity_samples
        Samples the sensitivity, randomisation and stability checks use (at most
        ``n_samples``).
    randomisation_repeats
        Independently re-initialised copies of the network the last randomisation stage
        is averaged over (the weights drawn are one more source of noise).
    confidence
        Level of the intervals over samples that the sanity, stability and faithfulness
        verdicts read (a percentile bootstrap of the mean over the samples).
    top_k
        Features compared when measuring agreement between methods.
    permutation_samples
        Samples of tabular permutation importance (0 skips it).
    max_evaluations
        Model evaluations one method may spend; more expensive methods are cut to it
        (their sample budget shrinks) with a warning.
    max_check_evaluations
        Model evaluations each of those checks may spend on one method: an expensive
        method is checked on fewer samples, or not at all (noted in the quality table).
    max_gflop, max_check_gflop
        The same two budgets in compute: a method may spend at most ``max_gflop`` and a
        check ``max_check_gflop`` GFLOP of forward passes (as torch's counter counts one
        sample's), so that a large model gets fewer evaluations and its audit's time is
        bounded (ResNet-18 at 224 x 224, 3.63 GFLOP a sample: 137 and 41). The costliest
        reference model, ``text_transformer``, costs 38 MFLOP a sample (13,227 and
        3,969). ``None``: no such budget.
    max_randomisation_similarity
        A method whose maps keep a rank correlation above this after the model's weights
        are randomised fails the sanity check.
    min_stability
        A stochastic method whose rank agreement across seeds falls below this gets a
        warning.
    max_completeness_gap
        Integrated Gradients (or SHAP, DeepLift) whose attributions miss the output
        difference by more than this fraction (of the difference, or of the outputs' own
        size when that is larger) gets a warning.
    max_sensitive_share
        The model relying on a sensitive feature for more than this share of its
        attribution gets a warning (tabular).
    max_colour_share
        An image model putting more than this share of its attribution on colour (the
        channels' difference) rather than on brightness and shape gets a warning.
    regions, max_region_enrichment
        Named regions of the input (see :mod:`.regions`): a boolean mask over an image
        (H×W or C×H×W), or a list of feature names (tabular) or tokens (text). Each gets
        the share of attribution inside it against its share of the input; a region
        whose enrichment (their ratio) surely exceeds ``max_region_enrichment`` gets a
        warning.
    proxy_auc, min_proxy_share
        Tabular: a feature that predicts a sensitive attribute with an AUC whose interval
        lies above ``proxy_auc`` and that carries at least ``min_proxy_share`` of the
        attribution is reported as a proxy of that attribute.
    sensitive_features
        Tabular features that are sensitive (default: the features named like a sensitive
        attribute of the target, e.g. ``sex``; ``age_band`` matches ``age``).
    layer
        The layer of Grad-CAM (images) or of layer Integrated Gradients (text, an
        embedding); default: detected (the last conv layer, the embedding).
    n_threads
        Threads of torch's CPU kernels and of OpenMP/BLAS (numpy, scikit-learn) while the
        family runs, restored afterwards (process-wide); ``None`` leaves them as they are. The
        family makes many small calls (8 samples, short batches), where extra threads
        mostly wait on each other: on a busy 2-core machine the default audit of
        ``transformer`` took 14-34 s with two threads and about 2 s with one.
    progress
        Show a progress bar over methods.
    every_row
        Also attribute every evaluation row with Integrated Gradients (streaming data
        included), batch by batch on the audit's engine, keeping exact means per
        feature, pixel or token: the population view beside the sampled deep dive. It
        costs ``n_steps`` gradient passes per row, so it is off by default.
    """

    methods: tuple[str, ...] | str | None = None
    n_samples: int = 16
    n_steps: int = 16
    max_steps: int = 4096
    n_noise_samples: int = 8
    noise_level: float = 0.1
    n_background: int = 16
    occlusion_window: int = 7
    kernel_shap_samples: int = 64
    kernel_shap_background: int = 8
    lime_samples: int = 300
    lime_segmentation: str = "slic"
    n_seeds: int = 3
    n_curve_steps: int = 10
    n_perturbations: int = 10
    n_sensitivity: int = 2
    sensitivity_radius: float = 0.02
    randomisation_stages: int = 2
    n_sanity_samples: int = 16
    randomisation_repeats: int = 8
    confidence: float = 0.95
    top_k: int = 5
    permutation_samples: int = 256
    max_evaluations: int = 200_000
    max_check_evaluations: int = 20_000
    max_gflop: float | None = 500.0
    max_check_gflop: float | None = 150.0
    max_randomisation_similarity: float = 0.5
    min_stability: float = 0.7
    max_completeness_gap: float = 0.01
    max_sensitive_share: float = 0.1
    max_colour_share: float = 0.1
    regions: Mapping[str, Any] | None = None
    max_region_enrichment: float = 2.0
    proxy_auc: float = 0.8
    min_proxy_share: float = 0.05
    sensitive_features: tuple[str, ...] | None = None
    layer: str | None = None
    n_threads: int | None = 1
    progress: bool = True
    every_row: bool = False

    LIMITS = (
        "max_randomisation_similarity",
        "min_stability",
        "max_completeness_gap",
        "max_sensitive_share",
        "max_colour_share",
        "max_region_enrichment",
        "proxy_auc",
        "min_proxy_share",
    )

    def __post_init__(self) -> None:
        if isinstance(self.regions, Mapping):  # masks as plain nested lists (JSON-able)
            plain = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in self.regions.items()}
            object.__setattr__(self, "regions", plain)
        super().__post_init__()

    @classmethod
    def constraints(cls):
        return EXPLAIN_CONSTRAINTS

    @classmethod
    def thorough(cls, **overrides: object) -> ExplainConfig:
        """The budgets of a full audit: more samples, every applicable method, longer checks."""
        budgets = {
            "methods": "all",
            "n_samples": 32,
            "n_steps": 64,
            "n_noise_samples": 16,
            "n_background": 32,
            "occlusion_window": 4,
            "kernel_shap_samples": 512,
            "kernel_shap_background": 16,
            "lime_samples": 400,
            "n_seeds": 5,
            "n_curve_steps": 20,
            "n_perturbations": 50,
            "n_sensitivity": 5,
            "randomisation_stages": 4,
            "n_sanity_samples": 32,
            "permutation_samples": 1024,
            "max_evaluations": 1_000_000,
            "max_check_evaluations": 100_000,
            "max_gflop": 5000.0,
            "max_check_gflop": 1500.0,
        }
        budgets.update(overrides)
        return cls(**budgets)  # type: ignore[arg-type]
