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

__all__ = [
    "AuditBundle",
    "AuditConfig",
    "Evidence",
    "FamilyResult",
    "Finding",
    "OverviewConfig",
    "Target",
    "__version__",
    "list_families",
    "load_bundle",
    "run_audit",
]
