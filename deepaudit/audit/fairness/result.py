"""The fairness family's typed result: what its tables, metrics and arrays hold.

Columns ending ``_low``/``_high`` are the bounds of an interval at the audit's
confidence (Wilson's for rates that are shares of a count, simultaneous intervals of the
contrasts between groups for disparities, bootstrap percentiles otherwise); they are
absent when ``n_bootstrap`` is 0. A test row (``disparity_tests``,
``counterfactual_summary``, ``identity_pairs``, ``class_shares``) holds its measurement,
its interval and the name of the config ``limit`` it is read against, then the verdict
the audit read: ``threshold`` and ``severity``, which ``deepaudit regrade`` reads again.
``p_value``, ``p_adjusted`` and ``se`` are only in results of schema 2's first release
and of schema 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deepaudit.results import FamilyResult

_row = dataclass(frozen=True, kw_only=True)


@_row
class GroupMetrics:
    """Rates of one group (or ``overall``) of one grouping, for one class (one-vs-rest;
    ``(top label)`` for the predicted class of a multiclass model). Metrics registered
    with ``deepaudit.register_metric`` add their own columns (and intervals)."""

    EXTRA_COLUMNS: ClassVar = {"*": float | None}

    grouping: str
    class_: str
    group: str
    count: int
    small: bool
    selection_rate: float
    accuracy: float
    tpr: float
    fpr: float
    fnr: float
    precision: float
    base_rate: float
    calibration_error: float
    mean_score: float
    selection_rate_low: float | None = None
    selection_rate_high: float | None = None
    accuracy_low: float | None = None
    accuracy_high: float | None = None
    tpr_low: float | None = None
    tpr_high: float | None = None
    fpr_low: float | None = None
    fpr_high: float | None = None
    fnr_low: float | None = None
    fnr_high: float | None = None
    precision_low: float | None = None
    precision_high: float | None = None
    base_rate_low: float | None = None
    base_rate_high: float | None = None
    calibration_error_low: float | None = None
    calibration_error_high: float | None = None
    mean_score_low: float | None = None
    mean_score_high: float | None = None


@_row
class Disparity:
    """One measure's spread across the groups of a grouping, for one class."""

    grouping: str
    class_: str
    measure: str
    difference: float
    ratio: float
    difference_to_overall: float
    ratio_to_overall: float
    difference_low: float | None = None
    difference_high: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    difference_to_overall_low: float | None = None
    difference_to_overall_high: float | None = None
    ratio_to_overall_low: float | None = None
    ratio_to_overall_high: float | None = None
    lowest_group: str | None = None
    highest_group: str | None = None
    n_groups: int
    excluded_groups: str


@_row
class DisparityTest:
    """One disparity test: a check of one grouping and class against its limit."""

    grouping: str
    class_: str
    check: str
    statistic: str
    value: float
    low: float
    high: float
    threshold: float
    higher_is_worse: bool
    p_value: float | None = None
    lowest_group: str | None = None
    highest_group: str | None = None
    n_groups: int
    se: float | None = None
    limit: str
    attributes: int | None = None
    base_rate_gap: float | None = None
    p_adjusted: float | None = None
    severity: str
    mirrors_base_rate: bool | None = None


@_row
class GroupCode:
    """The label and size of one code of one grouping (column ``column`` of the saved
    ``group_codes`` array)."""

    grouping: str
    column: int
    code: int
    group: str
    count: int


@_row
class AnomalyGroup:
    """Autoencoders: the anomaly-flag rate and mean error of one group."""

    grouping: str
    group: str
    count: int
    small: bool
    flag_rate: float
    mean_error: float
    flag_rate_low: float | None = None
    flag_rate_high: float | None = None
    mean_error_low: float | None = None
    mean_error_high: float | None = None


@_row
class Counterfactual:
    """Samples of one group with the attribute changed to another group."""

    attribute: str
    from_group: str
    to_group: str
    n: int
    changed_share: float
    mean_shift: float
    mean_abs_shift: float
    sample_ids: list
    example_changes: str | None = None  # tabular: what the flip changed in sample_ids[0]
    accuracy_before: float | None = None
    accuracy_after: float | None = None
    changed_share_low: float | None = None
    changed_share_high: float | None = None
    mean_shift_low: float | None = None
    mean_shift_high: float | None = None


@_row
class CounterfactualSummary:
    """One attribute's counterfactual test: the share of changed outputs over all
    alternatives tried per sample."""

    attribute: str
    n: int
    alternatives: int
    changed_share: float
    mean_shift: float
    mean_abs_shift: float
    threshold: float
    changed_share_low: float | None = None
    changed_share_high: float | None = None
    mean_shift_low: float | None = None
    mean_shift_high: float | None = None
    p_value: float | None = None
    se: float | None = None
    limit: str
    higher_is_worse: bool
    p_adjusted: float | None = None
    severity: str


@_row
class IdentityPair:
    """Text: one pair of identity terms swapped in template sentences."""

    attribute: str
    source: str
    term_a: str
    term_b: str
    group_a: str
    group_b: str
    in_vocab: bool
    n: int
    flip_rate: float
    mean_shift: float
    mean_abs_shift: float
    max_abs_shift: float
    abs_mean_shift: float
    mean_shift_low: float | None = None
    mean_shift_high: float | None = None
    abs_low: float | None = None
    abs_high: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    se: float | None = None
    limit: str
    higher_is_worse: bool
    p_adjusted: float | None = None
    severity: str | None = None


@_row
class IdentityGroup:
    """Text: the mean score of template sentences naming one identity group."""

    attribute: str
    group: str
    terms: str
    mean_score: float
    positive_rate: float | None = None
    mean_score_low: float | None = None
    mean_score_high: float | None = None


@_row
class IdentityDataSwap:
    """Text: evaluation samples holding one term of a swap pair, with it swapped
    (``term_a`` is ``(all pairs)`` for the pooled row)."""

    attribute: str
    source: str
    term_a: str
    term_b: str
    n: int
    flip_rate: float
    mean_shift: float
    mean_abs_shift: float
    sample_ids: list
    flip_rate_low: float | None = None
    flip_rate_high: float | None = None
    mean_shift_low: float | None = None
    mean_shift_high: float | None = None
    threshold: float | None = None


@_row
class Mitigation:
    """Decisions before and after fairlearn's ThresholdOptimizer, on held-out rows."""

    EXTRA_COLUMNS: ClassVar = {"selection_rate[*]": float}

    stage: str
    accuracy: float
    selection_rate: float
    demographic_parity_difference: float
    demographic_parity_ratio: float
    equalized_odds_difference: float


@_row
class MitigationThreshold:
    """The ThresholdOptimizer's decision rule for one group."""

    group: str
    p0: float
    operation0: str
    p1: float
    operation1: str
    p_ignore: float


@_row
class TradeoffPoint:
    """One point of the accuracy-against-disparity trade-off curve."""

    method: str
    parameter: float
    accuracy: float
    demographic_parity_difference: float
    equalized_odds_difference: float


@_row
class ClassShare:
    """Generators: one class's share of generated samples against the reference data."""

    class_: str
    generated: int
    generated_share: float
    reference: int
    reference_share: float
    share_ratio: float
    threshold: float
    reference_true_share: float | None = None
    generated_share_low: float | None = None
    generated_share_high: float | None = None
    share_ratio_low: float | None = None
    share_ratio_high: float | None = None
    p_value: float | None = None
    se: float | None = None
    limit: str
    higher_is_worse: bool
    p_adjusted: float | None = None
    severity: str | None = None


@_row
class Cost:
    """Seconds and model evaluations of one part of the audit."""

    method: str
    seconds: float
    model_evaluations: int


#: The limit each test row of result schema 1 was read against (schema 1 did not say).
_V1_LIMITS = {
    "disparity_tests": None,  # by check, below
    "counterfactual_summary": "max_flip_rate",
    "identity_pairs": "max_score_shift",
    "class_shares": "min_share_ratio",
}
_V1_LIMIT_OF_CHECK = {
    "demographic_parity": "max_difference",
    "equal_opportunity": "max_difference",
    "equalized_odds": "max_difference",
    "predictive_parity": "max_difference",
    "accuracy_parity": "max_difference",
    "four_fifths": "min_ratio",
    "flag_rate_parity": "max_difference",
    "flag_rate_ratio": "min_ratio",
}


def _v1_to_v2(document: dict) -> dict:
    """Schema 1 test rows did not name their limit, nor (for identity pairs and class
    shares) the direction of the test; both follow from the table and the check. Their
    standard errors were not saved, so a version-1 bundle loads and renders but cannot
    be re-graded. Counterfactual findings get the attribute they flip as their subject."""
    tables = {}
    for name, rows in document.get("tables", {}).items():
        if name in _V1_LIMITS:
            fixed = []
            for row in rows:
                row = dict(row)
                # a registered metric's test is read against max_difference, as every
                # difference test is
                limit = _V1_LIMITS[name] or _V1_LIMIT_OF_CHECK.get(
                    row.get("check"), "max_difference"
                )
                row.setdefault("limit", limit)
                row.setdefault("higher_is_worse", name != "class_shares")
                fixed.append(row)
            rows = fixed
        tables[name] = rows
    findings = [
        {**f, "subject": (f.get("evidence") or {}).get("group")}
        if f.get("check") == "counterfactual" and "subject" not in f
        else f
        for f in document.get("findings", [])
    ]
    return {**document, "tables": tables, "findings": findings}


@dataclass
class FairnessResult(FamilyResult):
    """Classifiers: group and intersectional metrics with intervals, disparity tests,
    counterfactual flips or identity-term swaps, mitigation; autoencoders: flag rates by
    group; generators: class coverage."""

    family: str = "fairness"

    SCHEMA_VERSION = 2
    TABLES: ClassVar = {
        "group_metrics": GroupMetrics,
        "disparities": Disparity,
        "disparity_tests": DisparityTest,
        "group_codes": GroupCode,
        "anomaly_groups": AnomalyGroup,
        "counterfactual": Counterfactual,
        "counterfactual_summary": CounterfactualSummary,
        "identity_pairs": IdentityPair,
        "identity_groups": IdentityGroup,
        "identity_data_swaps": IdentityDataSwap,
        "mitigation": Mitigation,
        "mitigation_thresholds": MitigationThreshold,
        "tradeoff": TradeoffPoint,
        "class_shares": ClassShare,
        "cost": Cost,
    }
    METRICS: ClassVar = {
        "confidence": float,
        "n_bootstrap": int,
        "target_kind": str,
        "modality": str,
        "n_samples": int,
        "n_classes": int,
        "threshold": float | None,
        "n_bins": int,
        "class_names": list,
        "groupings": list,
        "n_tests": int,
        "n_failed": int,
        "correction": str,
        "bootstrap": str,
        "live_rows": int,
        "anomaly_threshold": float,
        "flag_rate": float,
        "mitigation_attribute": str,
        "mitigation_constraint": str,
        "accuracy_before": float,
        "accuracy_after": float,
        "dp_difference_before": float,
        "dp_difference_after": float,
        "eo_difference_before": float,
        "eo_difference_after": float,
        "identity_pairs_compared": int,
        "label_model": str | None,
        "n_generated": int,
        "n_reference": int,
        "chi2": float,
        "chi2_p_value": float,
        "chi2_dof": int,
        "under_represented": list,
    }
    ARRAYS: ClassVar = {
        "scores": "classifiers: P(class 1) (binary) or the class probabilities of the rows "
        "the threshold slider reads",
        "labels": "classifiers: the true labels of those rows",
        "group_codes": "each row's code in every grouping (columns: table group_codes)",
        "errors": "autoencoders: the reconstruction errors of those rows",
        "generated_classes": "generators: the label model's class of each generated sample",
        "samples": "generators: a few generated samples",
    }
    MIGRATIONS: ClassVar = {1: _v1_to_v2}
