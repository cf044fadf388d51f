"""The ``overview`` audit family: how good the model is, before asking why or for whom.

Classifiers: accuracy, balanced accuracy, F1, ROC AUC, log-loss, expected calibration
error with its reliability curve, the confusion matrix and per-class metrics (computed
by scikit-learn; deepaudit adds calibration, findings and the bundle format).
Autoencoders: the distribution of reconstruction error and the anomaly threshold.
Generators: statistics of generated samples against real ones.

The measuring functions (which import scikit-learn) load on first use.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "OverviewConfig": ".config",
        "OVERVIEW_CONSTRAINTS": ".config",
        "OverviewResult": ".result",
        "FAMILY": ".family",
        "grade_overview": ".grade",
        "run_overview": ".run",
        "classifier_overview": ".run",
        "expected_calibration_error": ".run",
        "calibration_sums": ".run",
        "reliability": ".run",
        "histogram_auc": ".run",
        "ClassifierTally": ".run",
    },
)
