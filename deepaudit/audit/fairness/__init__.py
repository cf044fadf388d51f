"""The ``fairness`` audit family: for whom does the model fail?

Classifiers: group and intersectional metrics (selection rate, accuracy, TPR, FPR, FNR,
precision, base rate, calibration error) with bootstrap intervals, disparities between
groups and against the whole (demographic parity, equal opportunity, equalized odds,
predictive parity, the four-fifths rule) tested with a correction for many tests;
counterfactual flips of the sensitive attribute (tabular), recolouring (images) and
identity-term swaps (text); mitigation with fairlearn's ThresholdOptimizer.
Autoencoders: anomaly-flag rate and reconstruction error by group. Generators: class
shares of generated samples against the reference data.

:func:`group_metrics` is the one pure function from (labels, scores, groups, threshold)
to the metrics table; the audit and the dashboard's threshold slider both call it.
Names load on first use.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "FairnessConfig": ".config",
        "FAIRNESS_CONSTRAINTS": ".config",
        "FairnessResult": ".result",
        "FAMILY": ".family",
        "grade_fairness": ".grade",
        "decide_tests": ".grade",
        "applies_to": ".run",
        "run_fairness": ".run",
        "validate": ".run",
        "OVERALL": ".inputs",
        "SmallGroupWarning": ".inputs",
        "group_labels": ".live",
        "groupings": ".live",
        "live_inputs": ".live",
        "live_tests": ".live",
        "MEASURES": ".metrics",
        "METRICS": ".metrics",
        "anomaly_group_metrics": ".metrics",
        "disparities": ".metrics",
        "group_metrics": ".metrics",
        "register_metric": ".registry",
        "list_metrics": ".registry",
    },
)
