"""The audit layer: targets, configuration, audit families and the runner."""

from deepaudit.audit.config import AuditConfig
from deepaudit.audit.overview import OverviewConfig
from deepaudit.audit.registry import FamilySpec, get_family, list_families, register_family
from deepaudit.audit.runner import run_audit
from deepaudit.audit.target import Target

__all__ = [
    "AuditConfig",
    "FamilySpec",
    "OverviewConfig",
    "Target",
    "get_family",
    "list_families",
    "register_family",
    "run_audit",
]
