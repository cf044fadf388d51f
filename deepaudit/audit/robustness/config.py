"""``RobustnessConfig``: attack budgets, ε grids and thresholds of the robustness family.

The defaults are fast (a few hundred attacked samples, ten PGD steps, four ε per norm,
a short query-only attack); :meth:`RobustnessConfig.thorough` returns the budgets of a
full audit. Constraints are data, checked in one place when the config is built.

Units of ε. Attacks move in a *scaled* space where one unit is the natural size of a
coordinate: images in units of the input range (``ε = 8/255`` on [0, 1] pixels),
tabular features in units of each feature's valid range, text embeddings in units of
the typical embedding coordinate (L∞) or the typical embedding vector norm (L2).
"""

from __future__ import annotations

from dataclasses import dataclass

from deepaudit._validation import (
    NONE,
    InstanceOf,
    Interval,
    Names,
    NumberList,
    OneOf,
    SubsetOf,
)
from deepaudit.configs import Config

OWNER = "RobustnessConfig"

NORMS = ("Linf", "L2")
LOSSES = ("ce", "margin")
FGSM_MODES = ("none", "reference", "all")

#: ε grids used when ``epsilons`` / ``l2_epsilons`` are None, per modality (scaled units).
DEFAULT_EPSILONS: dict[str, dict[str, tuple[float, ...]]] = {
    "Linf": {
        "image": (1 / 255, 2 / 255, 4 / 255, 8 / 255),
        "tabular": (0.01, 0.02, 0.05, 0.1),
        "text": (0.02, 0.05, 0.1, 0.2),
    },
    "L2": {
        "image": (0.1, 0.25, 0.5, 1.0),
        "tabular": (0.02, 0.05, 0.1, 0.2),
        "text": (0.1, 0.25, 0.5, 1.0),
    },
}

_SHARE = Interval(float, 0, 1)
_POSITIVE_GRID = NumberList(Interval(float, 0, None, closed="neither"))


ROBUSTNESS_CONSTRAINTS = {
    "n_samples": [Interval(int, 1, 1_000_000)],
    "norms": [SubsetOf(NORMS)],
    "epsilons": [NONE, _POSITIVE_GRID],
    "l2_epsilons": [NONE, _POSITIVE_GRID],
    "reference_index": [Interval(int, -1000, 1000)],
    "steps": [Interval(int, 1, 10_000)],
    "relative_step_size": [Interval(float, 0, None, closed="neither")],
    "restarts": [Interval(int, 1, 100)],
    "random_start": [InstanceOf((bool,), "a bool")],
    "loss": [OneOf(LOSSES)],
    "bisection_steps": [Interval(int, 0, 50)],
    "flip_tolerance": [Interval(float, 0, None, closed="neither")],
    "large_epsilon_multiple": [Interval(float, 1, None, closed="neither")],
    "monotonicity_samples": [Interval(int, 0, 100_000)],
    "fgsm": [OneOf(FGSM_MODES)],
    "query_samples": [Interval(int, 0, 100_000)],
    "query_budget": [Interval(int, 1, 100_000)],
    "natural_samples": [Interval(int, 0, 1_000_000)],
    "natural_levels": [Interval(int, 1, 10)],
    "max_changed_words": [Interval(int, 0, 100)],
    "word_neighbours": [Interval(int, 1, 1000)],
    "word_candidates": [Interval(int, 1, 1000)],
    "word_min_similarity": [Interval(float, -1, 1)],
    "immutable_features": [Names("a list of distinct feature names")],
    "latent_samples": [Interval(int, 0, 1_000_000)],
    "latent_directions": [Interval(int, 1, 1000)],
    "latent_radii": [_POSITIVE_GRID],
    "min_group_size": [Interval(int, 1, None)],
    "n_examples": [Interval(int, 0, 100)],
    "n_bootstrap": [Interval(int, 0, 100_000)],
    "confidence": [Interval(float, 0, 1, closed="neither")],
    "min_robust_accuracy": [_SHARE],
    "max_group_gap": [_SHARE],
    "max_natural_drop": [_SHARE],
    "max_query_gain": [_SHARE],
    "max_zero_gradient_fraction": [_SHARE],
    "max_non_monotone_fraction": [_SHARE],
    "max_evasion_rate": [_SHARE],
    "max_latent_flip_rate": [_SHARE],
    "every_row": [InstanceOf((bool,), "a bool")],
    "progress": [InstanceOf((bool,), "a bool")],
}


@dataclass(frozen=True)
class RobustnessConfig(Config):
    """Budgets and thresholds of the robustness family.

    Parameters
    ----------
    n_samples
        Samples attacked (a seeded subset of the evaluation data; clean accuracy uses all).
    norms
        Threat models of the white-box attacks: ``"Linf"`` and/or ``"L2"``.
    epsilons, l2_epsilons
        Increasing ε grids for L∞ and L2 in scaled units (see the module docstring);
        ``None``: the modality's default in :data:`DEFAULT_EPSILONS`. ε = 0 (the clean
        accuracy) is always added in front.
    reference_index
        Which ε of each grid the findings and the query-only check read (Python
        indexing: -1 is the largest).
    steps, relative_step_size, restarts, random_start, loss
        PGD: iterations, step size as a fraction of ε, runs (a sample counts as broken
        when any run breaks it; runs after the first start at random points of the
        ball), whether the first run starts at a random point too (at a large ε a random
        start can land far from the boundary and waste the budget; off by default), and
        the loss climbed (cross-entropy or the logit margin of Carlini & Wagner).
    bisection_steps, flip_tolerance
        Each sample's smallest flipping ε is bisected between grid points until it is
        known within ``flip_tolerance`` (relative: the ε that broke it is at most
        ``1 + flip_tolerance`` times one it stood), in at most ``bisection_steps`` steps.
    large_epsilon_multiple
        The sanity check attacks at this multiple of the largest ε, where accuracy
        should collapse; a model that stays accurate there is probably masking gradients.
    monotonicity_samples
        Samples that survived an ε attacked again at the next smaller one (a sound
        attack does not break them there).
    fgsm
        Also run the one-step FGSM (captum.robust.FGSM): at no ε, at the reference L∞ ε,
        or at every L∞ ε.
    query_samples, query_budget
        Query-only random-search (Square) attack on at most this many samples that PGD
        left standing at the reference ε, with this many queries each.
    natural_samples, natural_levels
        Samples scored under natural perturbations (noise, blur, typos, ...; 0: skip), and
        how many severities of each (the strongest first).
    max_changed_words, word_neighbours, word_candidates, word_min_similarity
        Text: at most this many words substituted; each by one of its nearest
        neighbours in the embedding (this many, with at least this cosine similarity);
        this many candidate substitutions are scored exactly per step.
    immutable_features
        Tabular: features never perturbed (categorical features never are; features
        named like a sensitive attribute are added).
    latent_samples, latent_radii, latent_directions
        Generators: latent codes perturbed, the perturbation radii as a fraction of the
        code's norm, and the random directions tried per code (the flip rate is the mean
        over codes of the share of their directions that flip the label).
    min_group_size
        Groups with fewer (correctly classified) attacked samples are left out of gaps.
    n_examples
        Adversarial examples saved per group.
    n_bootstrap, confidence
        Bootstrap resamples for gaps and medians; level of every interval (Wilson for
        proportions).
    min_robust_accuracy
        Robust accuracy at the reference ε below which the robustness check fails.
    max_group_gap
        Largest tolerated gap between groups in the share of correctly classified
        samples that survive the attack at the reference ε (robustness bias).
    max_natural_drop
        Largest tolerated accuracy drop under a natural perturbation.
    max_query_gain
        Share of attacked samples a query-only attack may break beyond PGD (the low end
        of its interval) before the gradient-masking warning.
    max_zero_gradient_fraction
        Share of samples with zero input gradients tolerated before the warning.
    max_non_monotone_fraction
        Share of re-attacked samples that may survive a larger ε before the warning.
    max_evasion_rate
        Autoencoders: share of anomalies a perturbation at the reference ε may hide.
    max_latent_flip_rate
        Generators: share of samples whose label may change under a small random
        latent perturbation.
    every_row
        Classifiers: also attack *every* evaluation row (streaming data included) with
        PGD at each ε of the grid of the first norm in ``norms``, batch by batch on the
        audit's engine (Ray spreads the batches over workers), and keep exact counts of
        the rows still correct, overall and per sensitive group (table
        ``every_row_robust_accuracy``). A row broken at an ε counts as broken at every
        larger one. Each row costs up to ``steps × len(grid)`` gradient passes (times
        ``restarts``), so it is off by default; the other attacks still study the
        seeded subset of ``n_samples`` rows.
    progress
        Show progress bars.
    """

    n_samples: int = 400
    norms: tuple[str, ...] = ("Linf",)
    epsilons: tuple[float, ...] | None = None
    l2_epsilons: tuple[float, ...] | None = None
    reference_index: int = -2
    steps: int = 10
    relative_step_size: float = 0.25
    restarts: int = 1
    random_start: bool = False
    loss: str = "ce"
    bisection_steps: int = 12
    flip_tolerance: float = 0.1
    large_epsilon_multiple: float = 8.0
    monotonicity_samples: int = 16
    fgsm: str = "reference"
    query_samples: int = 12
    query_budget: int = 60
    natural_samples: int = 200
    natural_levels: int = 1
    max_changed_words: int = 2
    word_neighbours: int = 8
    word_candidates: int = 4
    word_min_similarity: float = 0.3
    immutable_features: tuple[str, ...] = ()
    latent_samples: int = 256
    latent_directions: int = 32
    latent_radii: tuple[float, ...] = (0.05, 0.1, 0.25)
    min_group_size: int = 10
    n_examples: int = 2
    n_bootstrap: int = 500
    confidence: float = 0.95
    min_robust_accuracy: float = 0.5
    max_group_gap: float = 0.1
    max_natural_drop: float = 0.1
    max_query_gain: float = 0.02
    max_zero_gradient_fraction: float = 0.01
    max_non_monotone_fraction: float = 0.1
    max_evasion_rate: float = 0.2
    max_latent_flip_rate: float = 0.1
    every_row: bool = False
    progress: bool = True

    LIMITS = (
        "min_robust_accuracy",
        "max_group_gap",
        "max_natural_drop",
        "max_query_gain",
        "max_zero_gradient_fraction",
        "max_non_monotone_fraction",
        "max_evasion_rate",
        "max_latent_flip_rate",
    )

    @classmethod
    def constraints(cls):
        return ROBUSTNESS_CONSTRAINTS

    def check(self) -> None:
        # Grids of floats, whatever numbers they were given as.
        for name in ("epsilons", "l2_epsilons", "latent_radii"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(float(e) for e in value))

    @classmethod
    def thorough(cls, **overrides) -> RobustnessConfig:
        """The budgets of a full audit (minutes per model on a CPU)."""
        settings = {
            "n_samples": 1000,
            "norms": ("Linf", "L2"),
            "steps": 50,
            "relative_step_size": 0.1,
            "restarts": 3,
            "bisection_steps": 16,
            "flip_tolerance": 0.05,
            "monotonicity_samples": 64,
            "query_samples": 256,
            "query_budget": 1000,
            "natural_samples": 2000,
            "natural_levels": 3,
            "fgsm": "all",
            "max_changed_words": 5,
            "word_candidates": 16,
            "latent_samples": 512,
            "n_examples": 4,
            "n_bootstrap": 2000,
        }
        return cls(**(settings | overrides))

    def grid(self, norm: str, modality: str) -> tuple[float, ...]:
        """The ε grid of ``norm`` for ``modality`` (the configured one or the default)."""
        given = self.epsilons if norm == "Linf" else self.l2_epsilons
        return given if given is not None else DEFAULT_EPSILONS[norm][modality]

    def reference_epsilon(self, norm: str, modality: str) -> float:
        """The ε the findings read: ``grid[reference_index]`` (clamped into the grid)."""
        grid = self.grid(norm, modality)
        return grid[reference_index(grid, self)]


def reference_index(grid: tuple[float, ...], options: RobustnessConfig) -> int:
    """The position in ``grid`` of the reference ε (``options.reference_index``, clamped)."""
    return min(max(options.reference_index, -len(grid)), len(grid) - 1) % len(grid)
