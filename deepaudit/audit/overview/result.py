"""The overview family's typed result: what its tables, metrics and arrays hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deepaudit.results import FamilyResult


@dataclass(frozen=True)
class PredictionCount:
    """How often the model predicts each class."""

    class_: str
    predicted: int


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one class (one-vs-rest), and its support."""

    class_: str
    precision: float
    recall: float
    f1: float
    support: int


def _v1_to_v2(document: dict) -> dict:
    """Version 1 lacked the worst-reconstructed sample ids and the generator's input
    range; they are left out (the saved findings stay as they were graded)."""
    return document


@dataclass
class OverviewResult(FamilyResult):
    """Classifiers: quality and calibration; autoencoders: the reconstruction-error
    distribution; generators: statistics of generated samples against real ones."""

    family: str = "overview"

    SCHEMA_VERSION = 2
    TABLES: ClassVar = {"prediction_counts": PredictionCount, "per_class": ClassMetrics}
    METRICS: ClassVar = {
        # classifiers
        "n_samples": int,
        "accuracy": float,
        "balanced_accuracy": float,
        "f1": float,
        "f1_average": str,
        "roc_auc": float,
        "roc_auc_method": str,
        "log_loss": float,
        "brier": float,
        "ece": float,
        "accuracy_low": float,
        "accuracy_high": float,
        "n_bins": int,
        # autoencoders
        "mean_error": float,
        "median_error": float,
        "anomaly_threshold": float,
        "flag_rate": float,
        "anomaly_roc_auc": float,
        "reference_mean_error": float,
        "reference_flag_rate": float,
        "error_ratio": float,
        # generators
        "n_generated": int,
        "sample_mean": float,
        "sample_std": float,
        "out_of_range_fraction": float,
        "input_range": list,
        "diversity": float,
        "discriminator_fake_mean": float,
        "discriminator_real_mean": float,
        "real_mean": float,
        "real_std": float,
        "mean_gap": float,
        "std_gap": float,
        "per_feature_mean_gap": float,
        "real_diversity": float,
    }
    ARRAYS: ClassVar = {
        "predicted": "classifiers: the predicted class of every row (up to max_saved_rows)",
        "proba": "classifiers: the class probabilities of every row (up to max_saved_rows)",
        "confusion_matrix": "classifiers: true class (rows) by predicted class (columns)",
        "reliability_*": "classifiers: the reliability curve (edges, counts, confidence, "
        "accuracy per bin)",
        "errors": "autoencoders: every row's reconstruction error",
        "worst_ids": "autoencoders: the rows with the largest errors, worst first",
        "error_histogram_*": "autoencoders: the error histogram (counts, edges)",
        "error_quantiles": "autoencoders: the 5, 25, 50, 75 and 95 % error quantiles",
        "samples": "generators: generated samples",
    }
    MIGRATIONS: ClassVar = {1: _v1_to_v2}
