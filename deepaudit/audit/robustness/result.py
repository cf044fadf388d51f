"""The robustness family's typed result: what its tables, metrics and arrays hold.

Proportions come with Wilson intervals (``ci_low``/``ci_high``), medians and gaps with
percentile-bootstrap ones. ε is in the scaled units of :mod:`.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from deepaudit.results import FamilyResult

_row = dataclass(frozen=True, kw_only=True)


@_row
class CleanAccuracy:
    """Classifiers: accuracy on every evaluation sample, overall and per group."""

    attribute: str
    group: str
    n: int
    value: float
    ci_low: float
    ci_high: float


@_row
class CurvePoint:
    """One attack at one ε, overall or for one group. Classifiers: accuracy under attack
    and the attack's success among correctly classified samples; autoencoders (with a
    ``direction``): the share of samples the adversary flips."""

    attack: str
    norm: str
    epsilon: float
    attribute: str
    group: str
    n: int
    accuracy: float | None = None
    ci_low: float
    ci_high: float
    n_correct: int | None = None
    success_rate: float
    success_ci_low: float | None = None
    success_ci_high: float | None = None
    direction: str | None = None


@_row
class FlipEpsilon:
    """The median smallest ε that flips a sample, overall and per group."""

    direction: str | None = None
    norm: str
    attribute: str
    group: str
    n_correct: int | None = None
    n: int | None = None
    median: float
    ci_low: float
    ci_high: float
    n_unbroken: int
    large_epsilon: float | None = None


@_row
class GroupGap:
    """The gap between the best and worst group of an attribute at the reference ε."""

    direction: str | None = None
    norm: str
    epsilon: float
    attribute: str
    metric: str
    best_group: str
    worst_group: str
    best_value: float
    worst_value: float
    best_n: int
    worst_n: int
    gap: float
    ci_low: float
    ci_high: float
    worst_median_flip: float | None = None
    best_median_flip: float | None = None


@_row
class ScoreShift:
    """Autoencoders: how far the anomaly score moves at the reference ε."""

    direction: str
    norm: str
    epsilon: float
    attribute: str
    group: str
    n: int
    median_relative_change: float
    median_score_before: float
    median_score_after: float


@_row
class NaturalPerturbation:
    """Classifiers: accuracy under one natural perturbation at one severity."""

    perturbation: str
    severity: float
    attribute: str
    group: str
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    clean_accuracy: float
    drop: float


@_row
class AdversarialExample:
    """A sample the attack broke, and what it became."""

    example: int
    attack: str
    direction: str | None = None
    norm: str
    epsilon: float
    attribute: str
    group: str
    sample_id: int
    label: str | None = None
    before: str | None = None
    after: str | None = None
    label_index: int | None = None
    before_index: int | None = None
    after_index: int | None = None
    text_before: str | None = None
    text_after: str | None = None
    changes: str | None = None
    score_before: float | None = None
    score_after: float | None = None
    threshold: float | None = None


@_row
class LatentStability:
    """Generators: how far outputs (and labels) move when latent codes are moved."""

    radius: float
    direction: str
    n: int
    median_rms_change: float
    mean_rms_change: float
    label_flip_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@_row
class SanityCheck:
    """One gradient-masking check; ``kind``, ``inputs`` and ``limit`` rebuild it under
    other limits (:func:`.sanity.from_row`)."""

    check: str
    value: float
    threshold: float
    passed: bool
    detail: str
    kind: str | None = None
    inputs: dict | None = None
    limit: str | None = None


@_row
class EveryRowAccuracy:
    """Classifiers, ``every_row``: robust accuracy over every row at one ε."""

    attribute: str
    group: str
    eps: float
    n: int
    robust_accuracy: float
    low: float
    high: float
    clean_accuracy: float


def _gap_subject(finding: dict) -> dict:
    """The attribute a version-1 gap finding is about, from its evidence
    (``attr=group``; an autoencoder's metric names its adversary, ``hide_anomaly_gap``)."""
    if finding.get("check") != "robustness_gap" or "subject" in finding:
        return finding
    evidence = finding.get("evidence") or {}
    attribute = str(evidence.get("group") or "").split("=", 1)[0]
    metric = str(evidence.get("metric") or "")
    direction = (
        metric[: -len("_gap")] if metric.endswith("_gap") and metric != "survival_gap" else ""
    )
    return {**finding, "subject": f"{direction}:{attribute}" if direction else attribute}


def _v1_to_v2(document: dict) -> dict:
    """Version 1 did not record what the findings read beside the tables (the unit of ε,
    what was attacked, an autoencoder's reference ε) nor the inputs of the sanity
    checks: a version-1 bundle loads and renders, and re-grading it asks for a re-run.
    Gap findings get the attribute they compare as their subject."""
    return {**document, "findings": [_gap_subject(f) for f in document.get("findings", [])]}


@dataclass
class RobustnessResult(FamilyResult):
    """Adversarial robustness (PGD, FGSM, minimal ε, Square; word substitution), natural
    perturbations, robustness per group, and gradient-masking checks."""

    family: str = "robustness"

    SCHEMA_VERSION = 2
    TABLES: ClassVar = {
        "clean_accuracy": CleanAccuracy,
        "curve": CurvePoint,
        "flip_epsilon": FlipEpsilon,
        "group_gaps": GroupGap,
        "score_shift": ScoreShift,
        "natural": NaturalPerturbation,
        "examples": AdversarialExample,
        "latent_stability": LatentStability,
        "sanity": SanityCheck,
        "every_row_robust_accuracy": EveryRowAccuracy,
    }
    METRICS: ClassVar = {
        "n_samples": int,
        "clean_accuracy": float,
        "clean_accuracy_attacked": float,
        "n_attacked": int,
        "attack_subject": str,
        "attack_limits": str,
        "attack_unit_*": str,
        "reference_epsilon_*": float,
        "robust_accuracy_*": float,
        "attack_success_rate_*": float,
        "median_flip_epsilon_*": float,
        "flip_unresolved_*": int,
        "fgsm_accuracy_*": float,
        "zero_gradient_fraction": float,
        "large_epsilon_accuracy": float,
        "query_only_gain": float,
        "word_robust_accuracy": float,
        "natural_worst_drop": float,
        "anomaly_threshold": float,
        "flag_rate": float,
        "hide_anomaly_rate_*": float,
        "flag_normal_rate_*": float,
        "median_relative_score_change_*": float,
        "latent_rms_change_random": float,
        "latent_rms_change_worst": float,
        "latent_worst_to_random": float,
        "latent_label_flip_rate": float,
        "latent_label_flip_rate_worst": float,
        "every_row_*": Any,
    }
    ARRAYS: ClassVar = {
        "attacked_ids": "the evaluation rows attacked",
        "flip_epsilon_*": "each attacked row's smallest flipping ε (per norm)",
        "broken_at_*": "the grid index at which each attacked row first broke (per norm)",
        "max_gradient": "each attacked row's largest input-gradient entry",
        "examples_*": "adversarial examples: inputs before and after, labels and scores",
    }
    MIGRATIONS: ClassVar = {1: _v1_to_v2}
