"""How a measurement becomes a verdict: the rules every family grades with, and
:func:`regrade`, which grades a saved bundle again under other limits.

Pure functions of numbers and saved results, so a bundle is re-graded without the
model, the data or torch (``deepaudit regrade``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from deepaudit.errors import parameter_error
from deepaudit.families import find_family
from deepaudit.results import AuditBundle
from deepaudit.schema import SchemaError


def verdict(
    value: float | None,
    low: float | None,
    high: float | None,
    limit: float,
    *,
    higher_is_worse: bool,
    warn: float | None = None,
) -> str:
    """The one rule every check is graded by: ``fail`` when the whole interval lies beyond
    the limit, ``pass`` when it lies within, ``inconclusive`` otherwise (it straddles the
    limit, or there is no value).

    Without an interval (``low``/``high`` None) the value stands for it. With a ``warn``
    limit (on the good side of ``limit``), a value that passes ``limit`` but lies beyond
    ``warn`` is a ``warn``.
    """
    if value is None or not math.isfinite(float(value)):
        return "inconclusive"
    low = value if low is None else low
    high = value if high is None else high
    if not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return "inconclusive"
    if higher_is_worse:
        beyond, within = low > limit, high <= limit
    else:
        beyond, within = high < limit, low >= limit
    if beyond:
        return "fail"
    if not within:
        return "inconclusive"
    if warn is not None and (value > warn if higher_is_worse else value < warn):
        return "warn"
    return "pass"


def shown(value: float, limit: float, digits: int = 2, style: str = "f") -> str:
    """``value`` with enough digits that it reads differently from ``limit`` when the two
    differ (0.6988 against 0.70 shows as 0.699, not 0.70), so that the number printed
    never contradicts the verdict."""
    for d in range(digits, digits + 6):
        text = f"{value:.{d}{style}}"
        if value == limit or text != f"{limit:.{d}{style}}":
            return text
    return f"{value:.{digits + 6}{style}}"


def parse_limits(settings: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["fairness.max_difference=0.05", ...]`` as ``{"fairness": {"max_difference": 0.05}}``.

    A value is read as JSON (numbers, ``true``, ``"text"``), else kept as text."""
    limits: dict[str, dict[str, Any]] = {}
    for setting in settings:
        key, sep, text = str(setting).partition("=")
        family, dot, name = key.strip().partition(".")
        if not sep or not dot or not family or not name:
            raise parameter_error(
                "--set",
                "deepaudit regrade",
                "FAMILY.LIMIT=VALUE, e.g. fairness.max_difference=0.05",
                setting,
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text.strip()
        limits.setdefault(family, {})[name] = value
    return limits


OLD_RESULT_MESSAGE = (
    "The {family} result of this bundle was saved by an older deepaudit (result schema "
    "{found}; this one writes {current}) and lacks what re-grading reads: re-run the audit "
    "to re-grade it."
)


def regrade(bundle: AuditBundle, limits: Mapping[str, Mapping[str, Any]]) -> AuditBundle:
    """The bundle graded again with some families' limits changed
    (``{"fairness": {"max_difference": 0.05}}``): pure, from the saved results alone (no
    model, no data, no torch). Each family named is graded under its saved settings with
    those limits (findings, and the verdicts its tables keep); the others are left as
    saved. The returned bundle records the new limits in its config and provenance."""
    unknown = sorted(set(limits) - set(bundle.families))
    if unknown:
        raise parameter_error(
            "limits",
            "regrade",
            "families of the bundle (" + ", ".join(map(repr, bundle.families)) + ")",
            unknown,
        )
    saved = bundle.config.get("options") or {}
    options = dict(saved)
    families = dict(bundle.families)
    for name, changed in limits.items():
        result = bundle.families[name]
        family = find_family(name)
        if family is None:
            raise parameter_error(
                "limits", "regrade", "families installed here", f"{name!r} (not installed)"
            )
        current = family.result_class.SCHEMA_VERSION
        if (result.saved_version or current) < current:
            raise SchemaError(
                OLD_RESULT_MESSAGE.format(family=name, found=result.saved_version, current=current)
            )
        config = family.config_class.with_limits(saved.get(name) or {}, changed)
        families[name] = family.regrade(result, config)
        options[name] = config.to_dict()
    return AuditBundle(
        target=dict(bundle.target),
        provenance={**bundle.provenance, "regraded": {k: dict(v) for k, v in limits.items()}},
        config={**bundle.config, "options": options},
        families=families,
        schema_version=bundle.schema_version,
    )


def changes(before: AuditBundle, after: AuditBundle) -> list[tuple[str, str | None, str | None]]:
    """``(finding id, severity before, severity after)`` for every finding whose severity
    differs (``None``: it is not there), by stable id."""
    old = {f.id: f.severity for f in before.findings}
    new = {f.id: f.severity for f in after.findings}
    return [
        (key, old.get(key), new.get(key))
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    ]
