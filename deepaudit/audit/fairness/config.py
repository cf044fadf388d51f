"""``FairnessConfig``: budgets and thresholds of the fairness family."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from deepaudit._validation import NONE, InstanceOf, Interval, Names, OneOf, Satisfies, SubsetOf
from deepaudit.configs import Config

#: How the many tests of a check are read together: with intervals simultaneous over
#: all of them, or each alone; and bootstrap schemes (resample N rows with replacement,
#: or weigh each row Poisson(1)).
CORRECTIONS = ("simultaneous", "none")
#: How a selection-rate gap that only mirrors the groups' base-rate gap is graded.
MIRRORED = ("warn", "inconclusive", "as_measured")
BOOTSTRAPS = ("multinomial", "poisson")

IDENTITY_ATTRIBUTES = ("gender", "religion", "nationality", "ethnicity")
SENTIMENTS = ("positive", "negative", "neutral")
MITIGATION_CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
)


_ATTRIBUTES = Names("a list of attribute names", distinct=False)


def _proxies(value) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and _ATTRIBUTES.is_satisfied_by(v) and len(v) > 0
        for k, v in value.items()
    )


FAIRNESS_CONSTRAINTS = {
    "sensitive_features": [NONE, _ATTRIBUTES],
    "max_intersection_order": [Interval(int, 1, 8)],
    "n_bootstrap": [Interval(int, 0, 100_000)],
    "bootstrap": [OneOf(("auto", *BOOTSTRAPS))],
    "max_saved_rows": [Interval(int, 1, 10_000_000)],
    "confidence": [Interval(float, 0, 1, closed="neither")],
    "correction": [OneOf(CORRECTIONS)],
    "mirrored_parity": [OneOf(MIRRORED)],
    "mirror_tolerance": [Interval(float, 0, 1)],
    "min_group_size": [Interval(int, 1, None)],
    "max_difference": [Interval(float, 0, 1)],
    "min_ratio": [Interval(float, 0, 1)],
    "threshold": [NONE, Interval(float, 0, 1)],
    "n_bins": [Interval(int, 1, 1000)],
    "counterfactual": [InstanceOf((bool,), "a bool")],
    "proxies": [
        Satisfies(_proxies, "a dict from an attribute to a list of its proxy features", [1])
    ],
    "max_counterfactuals": [Interval(int, 1, 1_000_000)],
    "max_flip_rate": [Interval(float, 0, 1)],
    "identity_attributes": [SubsetOf(IDENTITY_ATTRIBUTES)],
    "sentiments": [SubsetOf(SENTIMENTS)],
    "max_score_shift": [Interval(float, 0, 1)],
    "mitigation": [InstanceOf((bool,), "a bool")],
    "mitigation_attribute": [NONE, InstanceOf((str,), "a str")],
    "mitigation_constraint": [OneOf(MITIGATION_CONSTRAINTS)],
    "n_thresholds": [Interval(int, 2, 10_000)],
    "n_generated": [Interval(int, 10, 1_000_000)],
    "min_share_ratio": [Interval(float, 0, 1)],
}


@dataclass(frozen=True)
class FairnessConfig(Config):
    """Budgets and limits of the fairness family.

    Parameters
    ----------
    sensitive_features
        The target's sensitive attributes to audit (default: all of them).
    max_intersection_order
        Intersections of up to this many attributes are audited too (1: none).
    n_bootstrap
        Bootstrap resamples behind every interval (0: no intervals, no tests).
    bootstrap
        ``"multinomial"`` (the ordinary bootstrap), ``"poisson"`` (every row weighed by a
        Poisson(1) draw: one pass, memory independent of rows) or ``"auto"``: Poisson
        when the target's data streams, multinomial otherwise.
    max_saved_rows
        Rows whose scores, labels and groups the bundle keeps for the dashboard's
        threshold slider; above it, a seeded random sample of this many (the audit's
        own tables always cover every row).
    confidence
        Level of the two-sided intervals. A test fails when its whole interval lies
        beyond its limit, passes when it lies within, and is inconclusive otherwise.
    correction
        ``"simultaneous"``: the intervals of a check's tests (one per grouping and class)
        hold together at ``confidence`` (a max-T bootstrap over all their contrasts), so
        the check's headline is not the luckiest of many tests; ``"none"``: each test's
        interval holds alone.
    mirrored_parity, mirror_tolerance
        A selection-rate gap whose groups' base rates differ as much (within
        ``mirror_tolerance`` of the gap, or 0.02) reflects the labels, not the decisions:
        its demographic-parity test is graded ``"warn"`` (default), ``"inconclusive"``,
        or ``"as_measured"``; the finding says so either way.
    min_group_size
        Smaller groups are reported, but take no part in disparities (their rates are
        noise), and a warning names them.
    max_difference
        A disparity (difference between the groups' rates) beyond this fails.
    min_ratio
        A selection-rate ratio below this fails (the four-fifths rule at 0.8); also the
        ratio below which an autoencoder's flag rates fail.
    threshold
        Decision threshold on P(class 1) of a binary classifier; ``None``: the model's
        own decision (0.5; argmax for multiclass).
    n_bins
        Equal-width score bins of the per-group calibration error.
    counterfactual
        Flip each sensitive attribute (tabular), recolour (images), swap identity terms
        (text), and measure how predictions move.
    proxies
        Features standing in for an attribute (e.g. ``{"sex": ["relationship"]}``): they
        are changed with it, to values seen in the other group.
    max_counterfactuals
        Alternative values tried per sample and attribute (the most common first).
    max_flip_rate
        A share of changed predictions beyond this fails.
    identity_attributes, sentiments
        Identity-term lists and template adjectives of the text swaps.
    max_score_shift
        A mean score shift of an identity-term swap beyond this fails.
    mitigation
        Post-process the scores with fairlearn's ThresholdOptimizer (binary classifiers).
    mitigation_attribute
        The attribute to mitigate for (default: the first audited one).
    mitigation_constraint
        The ThresholdOptimizer constraint.
    n_thresholds
        Points of the accuracy-against-disparity trade-off curve.
    n_generated
        Generators: samples drawn and labelled by the target's label model
        (``Target(label_model=...)``).
    min_share_ratio
        Generators: a class whose generated share is below this fraction of its
        reference share is under-represented.
    """

    sensitive_features: tuple[str, ...] | None = None
    max_intersection_order: int = 2
    n_bootstrap: int = 1000
    bootstrap: str = "auto"
    max_saved_rows: int = 200_000
    confidence: float = 0.95
    correction: str = "simultaneous"
    mirrored_parity: str = "warn"
    mirror_tolerance: float = 0.25
    min_group_size: int = 30
    max_difference: float = 0.1
    min_ratio: float = 0.8
    threshold: float | None = None
    n_bins: int = 10
    counterfactual: bool = True
    proxies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_counterfactuals: int = 3
    max_flip_rate: float = 0.05
    identity_attributes: tuple[str, ...] = IDENTITY_ATTRIBUTES
    sentiments: tuple[str, ...] = SENTIMENTS
    max_score_shift: float = 0.05
    mitigation: bool = True
    mitigation_attribute: str | None = None
    mitigation_constraint: str = "demographic_parity"
    n_thresholds: int = 21
    n_generated: int = 1000
    min_share_ratio: float = 0.8

    LIMITS = (
        "max_difference",
        "min_ratio",
        "max_flip_rate",
        "max_score_shift",
        "min_share_ratio",
        "mirrored_parity",
        "mirror_tolerance",
    )

    @classmethod
    def constraints(cls):
        return FAIRNESS_CONSTRAINTS

    @classmethod
    def thorough(cls, **overrides) -> FairnessConfig:
        """The thorough budgets (``deepaudit demo --full``): 2,000 resamples, every
        intersection, every alternative value, a finer trade-off curve, more samples."""
        budgets = {
            "n_bootstrap": 2000,
            "max_intersection_order": 8,
            "max_counterfactuals": 100,
            "n_thresholds": 51,
            "n_generated": 5000,
        }
        return cls().replace(**(budgets | overrides))
