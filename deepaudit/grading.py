"""How a measurement becomes a verdict: the rules every family grades with.

Pure functions of numbers, so a saved bundle can be re-graded under new limits without
the model (``deepaudit regrade``).
"""

from __future__ import annotations

import math

from deepaudit.results import SEVERITIES

#: The rank of each severity, worst first: the one order every reader sorts by.
RANK = {s: i for i, s in enumerate(SEVERITIES)}


def severity_against(
    value: float | None, threshold: float, *, higher_is_worse: bool, warn_margin: float = 0.0
) -> str:
    """``fail`` beyond the threshold, ``warn`` within ``warn_margin`` of it, else ``pass``;
    ``inconclusive`` when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "inconclusive"
    excess = value - threshold if higher_is_worse else threshold - value
    if excess > 0:
        return "fail"
    if excess > -warn_margin:
        return "warn"
    return "pass"
