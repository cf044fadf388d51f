"""The ``explain`` audit family: attributions for every model kind, each shown with how
far to trust it.

captum, shap and lime compute the attributions; deepaudit adds the adapters (what is
explained for a classifier, an autoencoder, a GAN), batching from the memory budget,
categorical features reported as one feature, the quality scores beside every method
(deletion/insertion, infidelity, sensitivity, the randomisation sanity test,
completeness, stability across seeds, agreement), costs and findings. Add a method of
your own with :func:`register_attribution`. Names load on first use.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "EXPLAIN_CONSTRAINTS": ".config",
        "ExplainConfig": ".config",
        "ExplainResult": ".result",
        "FAMILY": ".family",
        "grade_explain": ".grade",
        "resolve_methods": ".run",
        "run_explain": ".run",
        "BUILTIN_SPECS": ".methods",
        "DEFAULT_METHODS": ".methods",
        "Attribution": ".methods",
        "applicable_methods": ".methods",
        "default_methods": ".methods",
        "MethodSpec": ".registry",
        "all_methods": ".registry",
        "get_method": ".registry",
        "list_attributions": ".registry",
        "register_attribution": ".registry",
        "unregister_attribution": ".registry",
    },
)
