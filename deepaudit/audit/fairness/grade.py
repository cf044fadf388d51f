"""The fairness family's findings, graded from its saved result and the limits.

Every test row holds a measurement (the value, its interval and bootstrap standard error)
and the name of the config limit it is read against (``limit``). Grading computes the
one-sided p-value of the excess over that limit, corrects the p-values over the tests of
each check (Holm or Benjamini–Hochberg), and decides each test: ``fail`` when the
interval lies beyond the limit and the excess survives the correction, ``pass`` when the
interval lies inside, ``inconclusive`` otherwise. The audit itself fills the saved
tables' verdicts with :func:`decide_tests`, so the tables and the findings agree.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.stats import adjust_p_values, decide, excess_p_value
from deepaudit.results import SEVERITIES, Evidence, FamilyResult, Finding
from deepaudit.results import SEVERITY_RANK as RANK
from deepaudit.schema import SchemaError

FAMILY = "fairness"

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


def check_text(check: str) -> str:
    """What a check measures, in words (a registered metric's test reads its label)."""
    from deepaudit.audit.fairness.registry import metric_label

    if check in CHECK_TEXT:
        return CHECK_TEXT[check]
    label = metric_label(check)
    return f"{label} gap" if label else check


REGRADE_NEEDS_SE = (
    "{table} of this bundle lacks the bootstrap standard errors ('se') that re-grading "
    "needs: it was written by an older deepaudit (result schema 1); re-run the audit"
)


def decide_tests(
    rows: Sequence[Mapping],
    config: FairnessConfig,
    *,
    value_key: str = "value",
    low_key: str = "low",
    high_key: str = "high",
    table: str = "disparity_tests",
) -> list[dict]:
    """Copies of the test ``rows`` with ``threshold``, ``p_value``, ``p_adjusted`` and
    ``severity`` read against the limits in ``config``. The correction runs over the
    tests of each check (a check is one question, asked of every grouping and class)."""
    decided = [dict(r) for r in rows]
    for row in decided:
        threshold = float(getattr(config, row["limit"]))
        row["threshold"] = threshold
        if "se" not in row:
            if "p_value" in row:  # a test from result schema 1
                raise SchemaError(REGRADE_NEEDS_SE.format(table=table))
            continue
        value = row[value_key]
        row["p_value"] = (
            math.nan
            if row["se"] is None
            else excess_p_value(
                value, float(row["se"]), threshold, higher_is_worse=row["higher_is_worse"]
            )
        )
    adjusted = np.full(len(decided), np.nan)
    checks = [r.get("check", "") for r in decided]
    for check in dict.fromkeys(checks):
        mine = [i for i, c in enumerate(checks) if c == check]
        adjusted[mine] = adjust_p_values(
            [decided[i].get("p_value", math.nan) for i in mine], config.correction
        )
    for row, p in zip(decided, adjusted, strict=True):
        row["p_adjusted"] = float(p)
        row["severity"] = decide(
            row[value_key],
            row.get(low_key, math.nan),
            row.get(high_key, math.nan),
            row["threshold"],
            higher_is_worse=row["higher_is_worse"],
            p_adjusted=float(p),
            confidence=config.confidence,
        )
    return decided


def decide_single(value: float, low: float, high: float, limit: float, confidence: float) -> str:
    """A single test (no correction): fail when the interval lies beyond the limit."""
    return decide(
        value,
        low,
        high,
        limit,
        higher_is_worse=True,
        p_adjusted=0.0 if low > limit else 1.0,
        confidence=confidence,
    )


def grade_fairness(result: FamilyResult, config: FairnessConfig) -> list[Finding]:
    """Every fairness finding of ``result`` under the limits of ``config``."""
    tables = result.tables
    found: list[Finding] = []
    if "group_metrics" in tables or "anomaly_groups" in tables:
        multiclass = result.metrics.get("n_classes", 2) > 2
        tests = decide_tests(tables.get("disparity_tests", []), config)
        found += disparity_findings(tests, config, "disparity_tests", show_class=multiclass)
        groups = "group_metrics" if "group_metrics" in tables else "anomaly_groups"
        small = small_group_finding(small_groups(tables[groups]), config, groups)
        if small is not None:
            found.append(small)
    if tables.get("counterfactual_summary"):
        found += counterfactual_findings(result, config)
    if "identity_pairs" in tables:
        found += identity_findings(result, config)
    if tables.get("class_shares") and config.n_bootstrap > 0:
        found += coverage_findings(result, config)
    return found


def refresh_verdicts(result: FamilyResult, config: FairnessConfig) -> FamilyResult:
    """``result`` with the verdicts its tables and metrics keep read again under
    ``config`` (what ``deepaudit regrade`` saves beside the new findings)."""
    tables = dict(result.tables)
    metrics = dict(result.metrics)
    if "disparity_tests" in tables:
        tables["disparity_tests"] = decide_tests(tables["disparity_tests"], config)
        metrics["n_failed"] = sum(r["severity"] == "fail" for r in tables["disparity_tests"])
        metrics["correction"] = config.correction
    if tables.get("counterfactual_summary"):
        tables["counterfactual_summary"] = decide_tests(
            tables["counterfactual_summary"],
            config,
            value_key="changed_share",
            low_key="changed_share_low",
            high_key="changed_share_high",
            table="counterfactual_summary",
        )
    if tables.get("identity_pairs") and config.n_bootstrap > 0:
        tables["identity_pairs"] = decide_tests(
            tables["identity_pairs"],
            config,
            value_key="abs_mean_shift",
            low_key="abs_low",
            high_key="abs_high",
            table="identity_pairs",
        )
    if tables.get("identity_data_swaps"):
        tables["identity_data_swaps"] = [
            {**r, "threshold": config.max_flip_rate} if "threshold" in r else r
            for r in tables["identity_data_swaps"]
        ]
    if tables.get("class_shares") and config.n_bootstrap > 0:
        tables["class_shares"] = decide_tests(
            tables["class_shares"],
            config,
            value_key="share_ratio",
            low_key="share_ratio_low",
            high_key="share_ratio_high",
            table="class_shares",
        )
        metrics["under_represented"] = [
            r["class"] for r in tables["class_shares"] if r["severity"] == "fail"
        ]
    refreshed = dataclasses.replace(result, tables=tables, metrics=metrics)
    return dataclasses.replace(refreshed, findings=grade_fairness(refreshed, config))


# -- disparities --------------------------------------------------------------------------


def excess(row: Mapping, value_key: str = "value") -> float:
    value = row[value_key]
    if value is None or not math.isfinite(value):
        return -math.inf
    return value - row["threshold"] if row["higher_is_worse"] else row["threshold"] - value


def worst(rows: Sequence[Mapping], value_key: str = "value") -> Mapping:
    """The worst row: the worst severity, then the largest excess over the threshold."""
    return min(rows, key=lambda r: (RANK[r["severity"]], -excess(r, value_key)))


def verdict(row: Mapping, low: float, high: float) -> str:
    severity = row["severity"]
    if severity == "fail":
        return "beyond the limit"
    if severity == "pass":
        return "within the limit"
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not enough data to tell"
    beyond = low > row["threshold"] if row["higher_is_worse"] else high < row["threshold"]
    if beyond:
        return "beyond the limit, but not after correcting for the number of tests"
    return "the interval straddles the limit"


def tally(rows: Sequence[Mapping]) -> str:
    counts = {s: sum(r["severity"] == s for r in rows) for s in SEVERITIES}
    parts = [f"{counts[s]} {s}" for s in ("fail", "inconclusive", "pass") if counts[s]]
    return f"{len(rows)} tests: " + ", ".join(parts)


def disparity_findings(
    rows: list[dict], config: FairnessConfig, view: str, *, show_class: bool = False
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
            f"{check_text(check)} is {top['value']:.3f} across {where} ({pair}); "
            f"{config.confidence:.0%} interval [{top['low']:.3f}, {top['high']:.3f}], limit "
            f"{top['threshold']:g}: {verdict(top, top['low'], top['high'])}"
            f" ({tally(mine)}; {config.correction} correction over them)."
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
                    view=view,
                ),
            )
        )
    return findings


def small_groups(group_rows: Sequence[Mapping]) -> dict[str, list[tuple[str, int]]]:
    """Grouping -> the (group, count) pairs marked too small, in table order."""
    small: dict[str, dict[str, int]] = {}
    for row in group_rows:
        if row.get("small"):
            small.setdefault(row["grouping"], {}).setdefault(str(row["group"]), int(row["count"]))
    return {grouping: list(groups.items()) for grouping, groups in small.items()}


def small_group_finding(
    small: dict[str, list[tuple[str, int]]], config: FairnessConfig, view: str
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
        f"{total} groups have fewer than {config.min_group_size} samples; their metrics are "
        f"reported with wide intervals but take no part in disparities: " + "; ".join(listed) + ".",
        Evidence(
            metric="group_count",
            value=float(smallest),
            threshold=float(config.min_group_size),
            group="; ".join(listed)[:200],
            view=view,
        ),
    )


# -- counterfactual flips -------------------------------------------------------------------


def counterfactual_findings(result: FamilyResult, config: FairnessConfig) -> list[Finding]:
    """One finding per attribute flipped (tabular) or recoloured (images)."""
    rows = decide_tests(
        result.tables["counterfactual_summary"],
        config,
        value_key="changed_share",
        low_key="changed_share_low",
        high_key="changed_share_high",
        table="counterfactual_summary",
    )
    what = "anomaly flags" if result.metrics.get("target_kind") == "autoencoder" else "predictions"
    how = "Recolouring" if result.metrics.get("modality") == "image" else "Flipping"
    findings = []
    for row in rows:
        low = row.get("changed_share_low", math.nan)
        high = row.get("changed_share_high", math.nan)
        interval = (
            f"{config.confidence:.0%} interval [{low:.1%}, {high:.1%}]; "
            if math.isfinite(low)
            else ""
        )
        findings.append(
            Finding(
                FAMILY,
                "counterfactual",
                row["severity"],
                f"{how} {row['attribute']!r} to another group changes "
                f"{row['changed_share']:.1%} of {what} ({interval}limit "
                f"{config.max_flip_rate:.0%}; mean score shift {row['mean_shift']:+.4f} over "
                f"{row['n']} samples).",
                Evidence(
                    metric="changed_share",
                    value=row["changed_share"],
                    interval=None if not math.isfinite(low) else (low, high),
                    threshold=config.max_flip_rate,
                    group=row["attribute"],
                    view="counterfactual",
                ),
                subject=row["attribute"],
            )
        )
    return findings


# -- identity-term swaps ---------------------------------------------------------------------


def identity_findings(result: FamilyResult, config: FairnessConfig) -> list[Finding]:
    """Per identity attribute: the worst template pair, and the swaps in the data."""
    findings = []
    rows = result.tables.get("identity_pairs", [])
    if rows and config.n_bootstrap > 0:
        rows = decide_tests(
            rows,
            config,
            value_key="abs_mean_shift",
            low_key="abs_low",
            high_key="abs_high",
            table="identity_pairs",
        )
        for attribute in dict.fromkeys(r["attribute"] for r in rows):
            mine = [r for r in rows if r["attribute"] == attribute]
            top = worst(mine, value_key="abs_mean_shift")
            fails = sum(r["severity"] == "fail" for r in mine)
            findings.append(
                Finding(
                    FAMILY,
                    f"identity_swap_{attribute}",
                    top["severity"],
                    f"Swapping {attribute} terms in template sentences moves the score by up to "
                    f"{top['mean_shift']:+.3f} on average ({top['term_a']} -> {top['term_b']}; "
                    f"{config.confidence:.0%} interval [{top['mean_shift_low']:+.3f}, "
                    f"{top['mean_shift_high']:+.3f}], limit ±{config.max_score_shift:g}; "
                    f"{top['flip_rate']:.0%} of its {top['n']} sentence pairs change "
                    f"prediction); {fails} of {len(mine)} term pairs fail.",
                    Evidence(
                        metric="mean_score_shift",
                        value=top["mean_shift"],
                        interval=(top["mean_shift_low"], top["mean_shift_high"]),
                        threshold=config.max_score_shift,
                        group=f"{top['term_a']} -> {top['term_b']}",
                        view="identity_pairs",
                    ),
                )
            )
    for row in result.tables.get("identity_data_swaps", []):
        if row["term_a"] != "(all pairs)" or "flip_rate_low" not in row:
            continue
        severity = decide_single(
            row["flip_rate"],
            row["flip_rate_low"],
            row["flip_rate_high"],
            config.max_flip_rate,
            config.confidence,
        )
        findings.append(
            Finding(
                FAMILY,
                f"identity_data_{row['attribute']}",
                severity,
                f"In {row['n']} evaluation samples holding a {row['attribute']} term, swapping "
                f"it (she/he, woman/man, ...) changes {row['flip_rate']:.1%} of predictions "
                f"({config.confidence:.0%} interval [{row['flip_rate_low']:.1%}, "
                f"{row['flip_rate_high']:.1%}], limit {config.max_flip_rate:.0%}); mean score "
                f"shift {row['mean_shift']:+.4f}.",
                Evidence(
                    metric="flip_rate",
                    value=row["flip_rate"],
                    interval=(row["flip_rate_low"], row["flip_rate_high"]),
                    threshold=config.max_flip_rate,
                    group=row["attribute"],
                    view="identity_data_swaps",
                ),
            )
        )
    return findings


# -- generated class coverage ----------------------------------------------------------------


def coverage_findings(result: FamilyResult, config: FairnessConfig) -> list[Finding]:
    """The worst-covered class of a generator, and every under-represented one."""
    rows = decide_tests(
        result.tables["class_shares"],
        config,
        value_key="share_ratio",
        low_key="share_ratio_low",
        high_key="share_ratio_high",
        table="class_shares",
    )
    metrics = result.metrics
    under = [r for r in rows if r["severity"] == "fail"]
    top = worst(rows, value_key="share_ratio")
    named = ", ".join(repr(r["class"]) for r in under)
    low, high = top["share_ratio_low"], top["share_ratio_high"]
    message = (
        f"Under-represented classes: {named}. "
        if under
        else "No class is clearly under-represented. "
    ) + (
        f"Worst: class {top['class']!r} at {top['generated_share']:.1%} of "
        f"{metrics['n_generated']} generated samples vs {top['reference_share']:.1%} of the "
        f"reference data (ratio {top['share_ratio']:.2f}, {config.confidence:.0%} interval "
        f"[{low:.2f}, {high:.2f}], limit {config.min_share_ratio:g}); classes labelled by "
        f"{metrics['label_model']!r}; chi-square {metrics['chi2']:.1f} on "
        f"{metrics['chi2_dof']} degrees of freedom, p = {metrics['chi2_p_value']:.2g}."
    )
    return [
        Finding(
            FAMILY,
            "class_coverage",
            top["severity"],
            message,
            Evidence(
                metric="share_ratio",
                value=top["share_ratio"],
                interval=(low, high),
                threshold=config.min_share_ratio,
                group=str(top["class"]),
                view="class_shares",
            ),
        )
    ]
