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


def fit_to_compute(case: Case, config: ExplainConfig) -> tuple[ExplainConfig, str | None]:
    """The config with its evaluation budgets lowered to what ``max_gflop`` and
    ``max_check_gflop`` allow at this network's cost per sample, and a note saying so
    (``None`` when neither binds)."""
    if config.max_gflop is None and config.max_check_gflop is None:
        return config, None
    from deepaudit.audit.compute import forward_gflop
    from deepaudit.audit.explain.case import one_row

    row = one_row(case.target, case.seed).to(case.subject.device)
    gflop = forward_gflop(case.subject.module, row)
    if not gflop:
        return config, None
    changes = {}
    for count, compute in (
        ("max_evaluations", "max_gflop"),
        ("max_check_evaluations", "max_check_gflop"),
    ):
        limit = getattr(config, compute)
        fit = None if limit is None else int(limit / gflop * (1 + 1e-9))  # k·gflop holds k
        if fit is not None and fit < getattr(config, count):
            changes[count] = max(_lowest(count), fit)
    if not changes:
        return config, None
    fitted = config.replace(**changes)
    limits = " and ".join(
        f"{name}={getattr(config, name):g}"
        for name in ("max_gflop", "max_check_gflop")
        if getattr(config, name) is not None
    )
    note = (
        f"One forward pass of one sample costs {gflop:.3g} GFLOP: within {limits}, a method "
        f"may spend {fitted.max_evaluations:,} model evaluations and each check "
        f"{fitted.max_check_evaluations:,} (raise them, or set them to None, for more)."
    )
    return fitted, note
