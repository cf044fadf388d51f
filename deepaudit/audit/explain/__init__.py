"""The ``explain`` audit family: attributions for every model kind, each shown with how
far to trust it.

captum, shap and lime compute the attributions; deepaudit adds the adapters (what is
explained for a classifier, an autoencoder, a GAN), batching from the memory budget,
categorical features reported as one feature, the quality scores beside every method
(deletion/insertion, infidelity, sensitivity, the randomisation sanity test,
completeness, stability across seeds, agreement), costs and findings. Importing this
package registers the family with ``run_audit``.
"""

from deepaudit.audit.explain.config import EXPLAIN_CONSTRAINTS, ExplainConfig
from deepaudit.audit.explain.family import FAMILY, resolve_methods, run_explain
from deepaudit.audit.explain.methods import (
    DEFAULT_METHODS,
    METHODS,
    Attribution,
    MethodSpec,
    applicable_methods,
    default_methods,
)

__all__ = [
    "DEFAULT_METHODS",
    "EXPLAIN_CONSTRAINTS",
    "FAMILY",
    "METHODS",
    "Attribution",
    "ExplainConfig",
    "MethodSpec",
    "applicable_methods",
    "default_methods",
    "resolve_methods",
    "run_explain",
]
