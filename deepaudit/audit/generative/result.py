"""The generative family's typed result: what its tables, metrics and arrays hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deepaudit.results import FamilyResult

_row = dataclass(frozen=True, kw_only=True)


@_row
class FidelityMetric:
    """Generators: one fidelity or diversity statistic, its interval and what training
    against held-out real samples scores (the real baseline)."""

    metric: str
    value: float
    interval_low: float | None = None
    interval_high: float | None = None
    real_baseline: float | None = None


@_row
class ClassCoverage:
    """Generators: recall and coverage among the real samples of one class."""

    class_: str
    n_real: int
    recall: float
    coverage: float


@_row
class Diversity:
    """Generators: the mean pairwise distance of generated and of real samples."""

    samples: str
    n: int
    mean_pairwise_distance: float


@_row
class MemorisationStats:
    """Generators: distances of generated and of held-out real samples to their nearest
    training sample."""

    samples: str
    n: int
    min_distance: float
    q01_distance: float
    median_distance: float
    share_under_threshold: float


@_row
class CopyThreshold:
    """Generators with a label model: the copy threshold of one class, from the held-out
    real samples the label model puts in it, and its generated samples' copy share."""

    class_: str
    n_generated: int
    n_heldout: int
    threshold: float
    expected_share: float
    copy_share: float


@_row
class NearestNeighbour:
    """Generators: a generated sample close to the training data, and its neighbour."""

    rank: int
    generated_id: int
    train_id: int
    distance: float
    distance_over_threshold: float | None = None
    copy: bool


@_row
class FeatureError:
    """Autoencoders: one feature's share of the reconstruction error."""

    feature: str
    n_columns: int
    heldout_mean_error: float
    heldout_share: float
    flagged_share: float
    reference_mean_error: float | None = None
    error_ratio: float | None = None


@_row
class WorstSample:
    """Autoencoders: a worst-reconstructed sample and the features its error comes from
    (``feature_1`` ... as "name (share)")."""

    EXTRA_COLUMNS: ClassVar = {"feature_*": str}

    sample_id: int
    error: float
    flagged: bool


def _v1_to_v2(document: dict) -> dict:
    """Version 1 kept the copy interval, the copies' ids and the number of flagged
    samples only in its findings: they are read back from there (or from the flag rate)
    so that a version-1 bundle can be re-graded."""
    metrics = dict(document.get("metrics", {}))
    arrays = dict(document.get("arrays", {}))
    for finding in document.get("findings", []):
        evidence = finding.get("evidence") or {}
        if finding.get("check") == "memorisation" and evidence.get("interval"):
            metrics.setdefault("copy_share_low", evidence["interval"][0])
            metrics.setdefault("copy_share_high", evidence["interval"][1])
    if "heldout_flag_rate" in metrics and "n_heldout" in metrics:
        metrics.setdefault("n_flagged", round(metrics["heldout_flag_rate"] * metrics["n_heldout"]))
    return {**document, "metrics": metrics, "arrays": arrays}


@dataclass
class GenerativeResult(FamilyResult):
    """Generators: fidelity, coverage, diversity and memorisation of samples;
    autoencoders: reconstruction-error distributions and their per-feature sources."""

    family: str = "generative"

    SCHEMA_VERSION = 2
    TABLES: ClassVar = {
        "fidelity": FidelityMetric,
        "coverage_by_class": ClassCoverage,
        "diversity": Diversity,
        "memorisation": MemorisationStats,
        "copy_thresholds": CopyThreshold,
        "nearest_neighbours": NearestNeighbour,
        "feature_errors": FeatureError,
        "worst_samples": WorstSample,
    }
    METRICS: ClassVar = {
        # generators
        "feature_space": str,
        "n_generated": int,
        "n_real": int,
        "precision": float,
        "recall": float,
        "density": float,
        "coverage": float,
        "frechet_distance": float,
        "frechet_ratio": float,
        "baseline_*": float,
        "generated_pairwise_distance": float,
        "real_pairwise_distance": float,
        "diversity_ratio": float,
        "interpolation_max_jump_ratio": float,
        "copy_share": float,
        "copy_share_low": float,
        "copy_share_high": float,
        "copy_quantile": float,
        "copy_threshold": float,
        "expected_copy_share": float,
        "heldout_copy_share": float,
        "copy_threshold_by_class": bool,
        "closer_than_heldout_probability": float,
        "closer_than_heldout_p_value": float,
        "n_train_searched": int,
        # autoencoders
        "n_heldout": int,
        "heldout_mean_error": float,
        "heldout_median_error": float,
        "anomaly_threshold": float,
        "heldout_flag_rate": float,
        "n_flagged": int,
        "n_features": int,
        "n_reference": int,
        "reference_mean_error": float,
        "reference_median_error": float,
        "reference_flag_rate": float,
        "error_shift_ks": float,
        "error_shift_p_value": float,
    }
    ARRAYS: ClassVar = {
        "sample_grid": "generators: a seeded grid of generated samples",
        "sample_grid_classes": "generators: the label model's class of each grid sample",
        "interpolations": "generators: latent interpolation strips",
        "interpolation_jump_ratios": "generators: each strip's largest step over its mean",
        "uncovered_*": "generators: the real samples farthest from any generated one",
        "memorisation_*": "generators: nearest-training-sample distances and histograms",
        "neighbour_*": "generators: generated samples closest to the training data, and "
        "their neighbours",
        "copy_ids": "generators: generated samples counted as copies (the first 20)",
        "error_edges": "autoencoders: the error histograms' edges",
        "heldout_counts": "autoencoders: the held-out error histogram",
        "reference_counts": "autoencoders: the reference error histogram",
        "heldout_errors": "autoencoders: the held-out rows' errors",
        "heldout_ids": "autoencoders: which rows those are",
        "reference_errors": "autoencoders: the reference rows' errors",
        "pixel_error_map": "image autoencoders: the mean error of each pixel",
        "worst_ids": "autoencoders: the worst-reconstructed rows",
        "worst_feature_errors": "autoencoders: their errors by feature",
    }
    MIGRATIONS: ClassVar = {1: _v1_to_v2}
