"""The audit layer: targets, configuration, audit families and the runner.

Attributes load on first use, so that importing a family's config or typed result (as
the reading side does) does not import torch.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "AuditConfig": ".config",
        "OverviewConfig": ".overview",
        "Target": ".target",
        "run_audit": ".runner",
        "Family": "deepaudit.families",
        "Page": "deepaudit.families",
        "get_family": "deepaudit.families",
        "list_families": "deepaudit.families",
        "register_family": "deepaudit.families",
    },
)
