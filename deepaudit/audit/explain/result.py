"""The explain family's typed result: what its tables, metrics and arrays hold.

Tables with a column per method (``global_importance``, ``token_attributions``) or per
sensitive attribute (``samples``) declare those columns by pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deepaudit.results import FamilyResult

_row = dataclass(frozen=True, kw_only=True)


@_row
class MethodQuality:
    """How far one method's maps can be trusted (``method`` ``random`` is the reference a
    random feature order scores). ``faithfulness_gain`` is its faithfulness over chance,
    which is 0 (a random order's insertion and deletion areas are equal in expectation);
    the ``_low``/``_high`` columns are intervals over the samples at the audit's
    confidence."""

    method: str
    label: str
    library: str
    deletion_auc: float
    insertion_auc: float
    faithfulness: float
    faithfulness_gain: float | None = None
    faithfulness_gain_low: float | None = None
    faithfulness_gain_high: float | None = None
    infidelity: float
    sensitivity: float
    randomisation: float
    randomisation_low: float | None = None
    randomisation_high: float | None = None
    randomisation_samples: int | None = None
    sanity: str
    completeness_gap: float
    steps: int | None = None
    stability: float
    stability_low: float | None = None
    stability_high: float | None = None
    stability_samples: int | None = None
    seconds: float
    evaluations: int
    check_seconds: float
    check_evaluations: int
    note: str


@_row
class RandomisationStage:
    """The randomisation test: rank correlation with the trained model's maps once some
    layers are re-initialised (Adebayo et al., 2018)."""

    method: str
    layers_randomised: int
    from_layer: str
    rank_correlation: float
    rank_correlation_abs: float


@_row
class Agreement:
    """How two methods agree: rank correlation and the overlap of their top features."""

    EXTRA_COLUMNS: ClassVar = {"top_*_overlap": float}

    method_a: str
    method_b: str
    rank_correlation: float


@_row
class GroupQuality:
    """Deletion and insertion areas of one method among one group's samples."""

    attribute: str
    group: str
    method: str
    n: int
    deletion_auc: float
    insertion_auc: float
    faithfulness: float


@_row
class ExplainedSample:
    """One explained sample: its row, the output explained, its label and groups (one
    column per sensitive attribute)."""

    EXTRA_COLUMNS: ClassVar = {"*": str}

    sample: int
    index: int
    explained_output: str
    label: str | None = None


@_row
class MethodCost:
    """Seconds and model evaluations of one method, and of its checks."""

    method: str
    seconds: float
    model_evaluations: int
    estimated_evaluations: int
    check_seconds: float
    check_evaluations: int


@_row
class BudgetCut:
    """A method cut (or skipped) to fit the evaluation budget."""

    method: str
    label: str
    estimated_evaluations: int
    budget: int
    setting: str | None = None
    from_: float | None = None
    to: float | None = None
    action: str
    raise_: str | None = None  # the budget to raise (max_evaluations or max_gflop)


@_row
class GlobalImportance:
    """Tabular: each logical feature's share of each method's attribution (one column
    per method, and ``permutation``)."""

    EXTRA_COLUMNS: ClassVar = {"*": float}

    feature: str
    kind: str
    sensitive: bool


@_row
class SensitiveShare:
    """Tabular: the share of attribution a sensitive feature receives, per method."""

    attribute: str
    feature: str
    method: str
    label: str
    share: float


@_row
class Proxy:
    """Tabular: how well a feature alone predicts a sensitive attribute (the best group
    against the rest, ROC AUC with its interval), and its share of the attribution."""

    attribute: str
    feature: str
    group: str
    auc: float
    auc_low: float
    auc_high: float
    share: float
    method: str
    label: str


@_row
class Region:
    """A named region of the input (``ExplainConfig(regions=...)``) under one method: the
    share of |attribution| inside it and its share of the input, over the samples."""

    region: str
    method: str
    label: str
    n_samples: int
    share: float
    share_low: float
    share_high: float
    input_share: float
    enrichment: float
    enrichment_low: float
    enrichment_high: float


@_row
class TokenAttribution:
    """Text: each method's score of one token of one explained sample."""

    EXTRA_COLUMNS: ClassVar = {"*": float}

    sample: int
    position: int
    token: str


@_row
class ColourShare:
    """RGB images: the share of Integrated Gradients' attribution on colour."""

    attribute: str
    group: str
    n: int
    colour_share: float


@_row
class LatentSensitivity:
    """Generators: how much each latent dimension moves the samples."""

    dimension: int
    sample_change: float
    discriminator_change: float | None = None


@_row
class EveryRowAttribution:
    """``every_row``: mean attribution of a feature (tabular) or a token (text) over
    every evaluation row."""

    feature: str | None = None
    token: str | None = None
    occurrences: int | None = None
    mean_abs_attribution: float
    mean_attribution: float
    share: float | None = None


def _v1_to_v2(document: dict) -> dict:
    """The shape of the explain result did not change."""
    return document


@dataclass
class ExplainResult(FamilyResult):
    """Attributions of sampled rows by every method, the quality of each, the share on
    sensitive features or colour, and (``every_row``) population means."""

    family: str = "explain"

    SCHEMA_VERSION = 2
    TABLES: ClassVar = {
        "quality": MethodQuality,
        "randomisation": RandomisationStage,
        "agreement": Agreement,
        "group_quality": GroupQuality,
        "samples": ExplainedSample,
        "cost": MethodCost,
        "budget": BudgetCut,
        "global_importance": GlobalImportance,
        "sensitive_share": SensitiveShare,
        "proxies": Proxy,
        "regions": Region,
        "token_attributions": TokenAttribution,
        "colour_share": ColourShare,
        "latent_sensitivity": LatentSensitivity,
        "every_row_attribution": EveryRowAttribution,
    }
    METRICS: ClassVar = {
        "n_explained": int,
        "n_methods": int,
        "methods": str,
        "best_method": str,
        "best_faithfulness": float,
        "random_faithfulness": float,
        "sanity_failures": int,
        "ig_completeness_gap": float,
        "ig_steps": int,
        "stratified_by": str,
        "colour_share": float,
        "permutation_seconds": float,
        "permutation_evaluations": int,
        "share[*]": float,
        "every_row_*": float,
    }
    ARRAYS: ClassVar = {
        "sample_indices": "the explained rows",
        "classes": "the class explained for each (-1: none)",
        "inputs": "the explained inputs",
        "tokens": "text: the explained tokens",
        "feature_names": "tabular: the logical features",
        "feature_values": "tabular: the explained rows' values, as shown",
        "curve_fractions": "the fractions of features removed along the curves",
        "attributions_*": "each method's attributions of the explained inputs",
        "deletion_curve_*": "each method's mean deletion curve",
        "insertion_curve_*": "each method's mean insertion curve",
        "colour_share": "RGB images: each explained sample's share of attribution on colour",
        "latent_*": "generators: each latent dimension's effect",
        "every_row_mean_abs_map": "images, every_row: mean |attribution| of each pixel",
    }
    MIGRATIONS: ClassVar = {1: _v1_to_v2}
