"""``OverviewConfig``: the budgets and limits of the overview family."""

from __future__ import annotations

from dataclasses import dataclass

from deepaudit._validation import Interval
from deepaudit.configs import Config

OVERVIEW_CONSTRAINTS = {
    "n_bins": [Interval(int, 2, 1000)],
    "confidence": [Interval(float, 0, 1, closed="neither")],
    "min_accuracy": [Interval(float, 0, 1)],
    "max_ece": [Interval(float, 0, 1)],
    "max_error_ratio": [Interval(float, 1, None)],
    "n_generated": [Interval(int, 2, 1_000_000)],
    "max_moment_gap": [Interval(float, 0, None, closed="neither")],
    "exact_rows": [Interval(int, 1, 100_000_000)],
    "max_saved_rows": [Interval(int, 0, 10_000_000)],
}


@dataclass(frozen=True)
class OverviewConfig(Config):
    """Budgets and limits of the overview family.

    Parameters
    ----------
    n_bins
        Equal-width confidence bins of the calibration error and reliability curve.
    confidence
        Level of the accuracy's Wilson interval.
    min_accuracy
        A classifier whose accuracy's interval lies below this fails (inconclusive when
        it straddles it).
    max_ece
        A classifier whose expected calibration error exceeds this gets a warning.
    max_error_ratio
        An autoencoder whose mean held-out reconstruction error exceeds this multiple of
        its reference (training) error gets a warning: it does not generalise.
    n_generated
        Samples drawn from a generator for its statistics.
    max_moment_gap
        A generator whose samples' mean or standard deviation differs from the real data's
        by more than this (in units of the real data's standard deviation) gets a warning.
    exact_rows
        Classifiers: up to this many rows, ROC AUC and log-loss come from scikit-learn
        on the kept scores. Beyond it the scores are let go and every metric comes from
        aggregates that do not grow with rows (ROC AUC from a 4,096-bin histogram of
        scores, within about 1e-3 of the exact value).
    max_saved_rows
        Classifiers: per-row probabilities are kept in the bundle up to this many rows.
    """

    n_bins: int = 10
    confidence: float = 0.95
    min_accuracy: float = 0.7
    max_ece: float = 0.05
    max_error_ratio: float = 1.1
    n_generated: int = 1000
    max_moment_gap: float = 0.25
    exact_rows: int = 1_000_000
    max_saved_rows: int = 200_000

    LIMITS = ("min_accuracy", "max_ece", "max_error_ratio", "max_moment_gap")

    @classmethod
    def constraints(cls):
        return OVERVIEW_CONSTRAINTS

    @classmethod
    def thorough(cls) -> OverviewConfig:
        """Thorough budgets (``deepaudit demo --full``): five times the generated samples.

        Thresholds and bins are those of the default, so verdicts stay comparable.
        """
        return cls(n_generated=5000)
