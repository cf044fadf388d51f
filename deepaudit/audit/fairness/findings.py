"""From test rows to findings: correct the p-values, decide each test, summarise each check."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.stats import adjust_p_values, decide
from deepaudit.results import SEVERITIES, Evidence, Finding

FAMILY = "fairness"
_RANK = {s: i for i, s in enumerate(SEVERITIES)}

CHECK_TEXT = {
    "demographic_parity": "Selection-rate gap (demographic parity difference)",
    "equal_opportunity": "True-positive-rate gap (equal opportunity difference)",
    "equalized_odds": "Equalized-odds difference (the larger of the TPR and FPR gaps)",
    "predictive_parity": "Precision gap (predictive parity difference)",
    "four_fifths": "Selection-rate ratio (four-fifths rule)",
    "accuracy_parity": "Accuracy gap",
    "flag_rate_parity": "Anomaly-flag-rate gap",
    "flag_rate_ratio": "Anomaly-flag-rate ratio",
    "identity_swap": "Score shift of an identity-term swap",
    "counterfactual": "Share of predictions changed by flipping the attribute",
    "class_coverage": "Generated share of a class relative to the reference data",
}


def decide_rows(
    rows: list[dict],
    options: FairnessConfig,
    *,
    value_key: str = "value",
    low_key: str = "low",
    high_key: str = "high",
    higher_is_worse: bool | None = None,
) -> None:
    """Add ``p_adjusted`` and ``severity`` to every test row. The correction runs over the
    tests of each check (a check is one question, asked of every grouping and class)."""
    adjusted = np.full(len(rows), np.nan)
    checks = [r.get("check", "") for r in rows]
    for check in dict.fromkeys(checks):
        mine = [i for i, c in enumerate(checks) if c == check]
        adjusted[mine] = adjust_p_values(
            [rows[i].get("p_value", math.nan) for i in mine], options.correction
        )
    for row, p in zip(rows, adjusted, strict=True):
        worse = row["higher_is_worse"] if higher_is_worse is None else higher_is_worse
        row["p_adjusted"] = float(p)
        row["severity"] = decide(
            row[value_key],
            row.get(low_key, math.nan),
            row.get(high_key, math.nan),
            row["threshold"],
            higher_is_worse=worse,
            p_adjusted=float(p),
            confidence=options.confidence,
        )


def excess(row: dict, value_key: str = "value", higher_is_worse: bool | None = None) -> float:
    worse = row["higher_is_worse"] if higher_is_worse is None else higher_is_worse
    value = row[value_key]
    if value is None or not math.isfinite(value):
        return -math.inf
    return value - row["threshold"] if worse else row["threshold"] - value


def worst(rows: Sequence[dict], **kwargs) -> dict:
    """The worst row: the worst severity, then the largest excess over the threshold."""
    return min(rows, key=lambda r: (_RANK[r["severity"]], -excess(r, **kwargs)))


def verdict(row: dict, low: float, high: float, higher_is_worse: bool) -> str:
    severity = row["severity"]
    if severity == "fail":
        return "beyond the limit"
    if severity == "pass":
        return "within the limit"
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not enough data to tell"
    beyond = low > row["threshold"] if higher_is_worse else high < row["threshold"]
    if beyond:
        return "beyond the limit, but not after correcting for the number of tests"
    return "the interval straddles the limit"


def tally(rows: Sequence[dict]) -> str:
    counts = {s: sum(r["severity"] == s for r in rows) for s in SEVERITIES}
    parts = [f"{counts[s]} {s}" for s in ("fail", "inconclusive", "pass") if counts[s]]
    return f"{len(rows)} tests: " + ", ".join(parts)


def disparity_findings(
    rows: list[dict], options: FairnessConfig, table: str, *, show_class: bool = False
) -> list[Finding]:
    """One finding per check (its worst test), from decided test rows; ``show_class``
    names the class of the worst test (multiclass models)."""
    findings = []
    for check in dict.fromkeys(r["check"] for r in rows):
        mine = [r for r in rows if r["check"] == check]
        top = worst(mine)
        where = top["grouping"] + (f", class {top['class']!r}" if show_class else "")
        pair = (
            f"{top['lowest_group']} vs {top['highest_group']}"
            if top.get("lowest_group") is not None
            else "fewer than two groups large enough"
        )
        message = (
            f"{CHECK_TEXT.get(check, check)} is {top['value']:.3f} across {where} ({pair}); "
            f"{options.confidence:.0%} interval [{top['low']:.3f}, {top['high']:.3f}], limit "
            f"{top['threshold']:g}: {verdict(top, top['low'], top['high'], top['higher_is_worse'])}"
            f" ({tally(mine)}; {options.correction} correction over them)."
        )
        findings.append(
            Finding(
                FAMILY,
                check,
                top["severity"],
                message,
                Evidence(
                    metric=top["statistic"],
                    value=top["value"],
                    interval=(top["low"], top["high"]),
                    threshold=top["threshold"],
                    group=f"{top['grouping']}: {pair}",
                    table=table,
                ),
            )
        )
    return findings


def small_group_finding(
    small: dict[str, list[tuple[str, int]]], options: FairnessConfig, table: str
) -> Finding | None:
    """A warning naming the groups too small to take part in disparities."""
    if not small:
        return None
    listed = [
        f"{grouping}: "
        + ", ".join(f"{name} ({count})" for name, count in groups[:6])
        + (f" and {len(groups) - 6} more" if len(groups) > 6 else "")
        for grouping, groups in small.items()
    ]
    total = sum(len(groups) for groups in small.values())
    smallest = min(count for groups in small.values() for _, count in groups)
    return Finding(
        FAMILY,
        "small_groups",
        "warn",
        f"{total} groups have fewer than {options.min_group_size} samples; their metrics are "
        f"reported with wide intervals but take no part in disparities: " + "; ".join(listed) + ".",
        Evidence(
            metric="group_count",
            value=float(smallest),
            threshold=float(options.min_group_size),
            group="; ".join(listed)[:200],
            table=table,
        ),
    )
