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
"""

from deepaudit.audit.fairness.audit import applies_to, run_fairness, validate
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.inputs import OVERALL, SmallGroupWarning
from deepaudit.audit.fairness.live import group_labels, groupings, live_inputs
from deepaudit.audit.fairness.metrics import (
    MEASURES,
    METRICS,
    anomaly_group_metrics,
    disparities,
    group_metrics,
)
from deepaudit.audit.registry import FamilySpec, register_family

FAMILY = "fairness"

register_family(
    FamilySpec(
        name=FAMILY,
        config_class=FairnessConfig,
        run=run_fairness,
        applies_to=applies_to,
        validate=validate,
        streams=True,
        description="Group and intersectional metrics with intervals, counterfactual "
        "flips and identity swaps, mitigation (classifiers); flag rates by group "
        "(autoencoders); class coverage (generators).",
    )
)

__all__ = [
    "MEASURES",
    "METRICS",
    "OVERALL",
    "FairnessConfig",
    "SmallGroupWarning",
    "anomaly_group_metrics",
    "applies_to",
    "disparities",
    "group_labels",
    "group_metrics",
    "groupings",
    "live_inputs",
    "run_fairness",
    "validate",
]
