"""deepaudit: audit PyTorch models for why they decide, for whom they fail, how easily they break.

The public API::

    import deepaudit as da
    target = da.Target(model, kind="classifier", modality="tabular", data=X, labels=y, ...)
    bundle = da.run_audit(target, da.AuditConfig(families=["overview"], seed=0))
    bundle.save("runs/mine"); da.load_bundle("runs/mine")

Every name below is imported on first use (as scikit-learn does): ``import deepaudit``
and reading a saved bundle do not import torch.
"""

from deepaudit._lazy import lazy_exports
from deepaudit._version import __version__

__getattr__, __dir__, _exported = lazy_exports(
    __name__,
    {
        # auditing
        "Target": "deepaudit.audit.target",
        "AuditConfig": "deepaudit.audit.config",
        "run_audit": "deepaudit.audit.runner",
        "OverviewConfig": "deepaudit.audit.overview.config",
        "ExplainConfig": "deepaudit.audit.explain.config",
        "FairnessConfig": "deepaudit.audit.fairness.config",
        "RobustnessConfig": "deepaudit.audit.robustness.config",
        "GenerativeConfig": "deepaudit.audit.generative.config",
        # reading
        "AuditBundle": "deepaudit.results",
        "Evidence": "deepaudit.results",
        "FamilyResult": "deepaudit.results",
        "Finding": "deepaudit.results",
        "load_bundle": "deepaudit.results",
        # extending
        "Family": "deepaudit.families",
        "Page": "deepaudit.families",
        "Config": "deepaudit.configs",
        "get_family": "deepaudit.families",
        "list_families": "deepaudit.families",
        "register_family": "deepaudit.families",
        "unregister_family": "deepaudit.families",
        "register_attribution": "deepaudit.audit.explain.registry",
        "register_metric": "deepaudit.audit.fairness.registry",
        "register_attack": "deepaudit.audit.robustness.registry",
        "register_perturbation": "deepaudit.audit.robustness.registry",
    },
)
__all__ = [*_exported, "__version__"]
