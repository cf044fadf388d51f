"""Grading a measurement against the fail and warn thresholds of the config."""

from __future__ import annotations

import math


def grade(
    value: float | None,
    fail: float,
    warn: float,
    *,
    lower_is_worse: bool,
    interval: tuple[float, float] | None = None,
) -> str:
    """``fail`` beyond the fail threshold, ``warn`` beyond the warn one, else ``pass``.

    ``inconclusive`` when there is no value, or when its interval straddles the fail
    threshold (the evidence cannot tell failing from not failing).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "inconclusive"
    if interval is not None and interval[0] < fail < interval[1]:
        return "inconclusive"
    worse = (lambda v, t: v < t) if lower_is_worse else (lambda v, t: v > t)
    if worse(value, fail):
        return "fail"
    if worse(value, warn):
        return "warn"
    return "pass"
