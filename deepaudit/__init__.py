"""deepaudit: audit PyTorch models for why they decide, for whom they fail, how easily they break.

The public API::

    import deepaudit as da
    target = da.Target(model, kind="classifier", modality="tabular", data=X, labels=y, ...)
    bundle = da.run_audit(target, da.AuditConfig(families=["overview"], seed=0))
    bundle.save("runs/mine"); da.load_bundle("runs/mine")
"""

__version__ = "0.1.0"

from deepaudit.audit import AuditConfig, OverviewConfig, Target, list_families, run_audit
from deepaudit.results import AuditBundle, Evidence, FamilyResult, Finding, load_bundle

#: Family configs, imported on first use (the explain family pulls in shap and lime).
_LAZY = {
    "ExplainConfig": "deepaudit.audit.explain",
    "FairnessConfig": "deepaudit.audit.fairness",
    "RobustnessConfig": "deepaudit.audit.robustness",
    "GenerativeConfig": "deepaudit.audit.generative",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deepaudit' has no attribute {name!r}")


__all__ = [
    "AuditBundle",
    "AuditConfig",
    "Evidence",
    "ExplainConfig",
    "FairnessConfig",
    "FamilyResult",
    "Finding",
    "GenerativeConfig",
    "OverviewConfig",
    "RobustnessConfig",
    "Target",
    "__version__",
    "list_families",
    "load_bundle",
    "run_audit",
]
