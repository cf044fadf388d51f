"""Announcing what each method will cost, and cutting expensive ones to the budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepaudit.audit.explain.config import EXPLAIN_CONSTRAINTS

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.audit.explain.methods import MethodSpec


def _lowest(field: str) -> int:
    interval = EXPLAIN_CONSTRAINTS[field][0]
    return int(interval.low)


def fit_to_budget(
    spec: MethodSpec, case: Case, config: ExplainConfig
) -> tuple[ExplainConfig | None, dict | None]:
    """The config a method runs with, and a budget row when it had to change.

    The estimate is announced before the method runs. Over the budget, the method's
    sample setting (``budget_field``) shrinks in proportion; a method without one, or
    one that cannot shrink enough, is skipped (``None``).
    """
    estimate = spec.estimate(case, config, case.n)
    budget = config.max_evaluations
    if estimate <= budget:
        return config, None
    row = {
        "method": spec.name,
        "label": spec.label,
        "estimated_evaluations": int(estimate),
        "budget": int(budget),
        "setting": spec.budget_field,
        "from": None,
        "to": None,
        "action": "skipped",
    }
    field = spec.budget_field
    if field is not None:
        current = int(getattr(config, field))
        value = current
        while value > _lowest(field):
            value = max(_lowest(field), int(value * budget / estimate * 0.95))
            trial = config.replace(**{field: value})
            estimate = spec.estimate(case, trial, case.n)
            if estimate <= budget:
                row.update({"from": current, "to": value, "action": "cut"})
                return trial, row
            if value == _lowest(field):
                break
    return None, row
