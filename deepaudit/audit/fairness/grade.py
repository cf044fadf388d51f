"""The fairness family's findings, graded from its saved result and the limits.

Every test row holds a measurement (the value and its interval: simultaneous over the
tests of its check, see :mod:`.simultaneous`) and the name of the config limit it is
read against (``limit``). Grading reads each by the one rule: ``fail`` when the whole
interval lies beyond the limit, ``pass`` when it lies inside, ``inconclusive`` otherwise.
The audit itself fills the saved tables' verdicts with :func:`decide_tests`, so the
tables and the findings agree.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.errors import plural
from deepaudit.grading import shown, verdict
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
    "{table} of this bundle lacks the intervals re-grading reads: it was written by an "
    "older deepaudit (result schema 1); re-run the audit"
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
    """Copies of the test ``rows`` with ``threshold`` and ``severity`` read against the
    limits in ``config``, by the one rule (:func:`deepaudit.grading.verdict`): fail when
    the whole interval lies beyond the limit, pass when within, inconclusive otherwise.

    A demographic-parity test whose groups' base rates differ as much as their selection
    rates (``mirrors_base_rate``) is graded as ``config.mirrored_parity`` says."""
    decided = [dict(r) for r in rows]
    for row in decided:
        if "p_adjusted" in row and "low" not in row and low_key == "low":
            raise SchemaError(REGRADE_NEEDS_SE.format(table=table))
        threshold = float(getattr(config, row["limit"]))
        row["threshold"] = threshold
        row["severity"] = verdict(
            row[value_key],
            row.get(low_key, math.nan),
            row.get(high_key, math.nan),
            threshold,
            higher_is_worse=row["higher_is_worse"],
        )
        if "base_rate_gap" in row:
            row["mirrors_base_rate"] = mirrors(row[value_key], row["base_rate_gap"], config)
            if (
                row["mirrors_base_rate"]
                and row["severity"] == "fail"
                and config.mirrored_parity != "as_measured"
            ):
                row["severity"] = config.mirrored_parity
    return decided


def mirrors(gap: float, base_rate_gap: float, config: FairnessConfig) -> bool:
    """Whether a selection-rate gap is the groups' base-rate gap again: the group
    selected more often is also the one more often positive, by as much (within
    ``mirror_tolerance`` of the gap, or 0.02)."""
    if not (math.isfinite(gap) and math.isfinite(base_rate_gap)) or gap <= 0:
        return False
    return base_rate_gap > 0 and abs(gap - base_rate_gap) <= max(
        0.02, config.mirror_tolerance * gap
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
    if len(tables.get("mitigation", [])) >= 2:
        found.append(mitigation_finding(result, config))
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
    """The worst row: the worst severity; among those, the test of the fewest attributes
    (a marginal before the intersections that contain it), then the largest excess."""
    return min(
        rows,
        key=lambda r: (RANK[r["severity"]], r.get("attributes", 1), -excess(r, value_key)),
    )


def verdict_text(row: Mapping, digits: int = 3) -> str:
    """The verdict in words, with the interval and the limit it is read against."""
    severity = row["severity"]
    low, high = row.get("low", math.nan), row.get("high", math.nan)
    known = math.isfinite(low) and math.isfinite(high)
    if row.get("mirrors_base_rate") and known:
        beyond = low > row["threshold"] if row["higher_is_worse"] else high < row["threshold"]
        return (
            ("beyond the limit, " if beyond else "")
            + f"but the groups' base rates differ by {row['base_rate_gap']:.{digits}f} too, so "
            "the gap mirrors who is positive more than how the model decides (the error-rate "
            "gaps say more)"
        )
    if severity == "fail":
        return "beyond the limit"
    if severity in ("pass", "warn"):
        return "within the limit"
    if not known:
        return "not enough data to tell"
    return "the interval straddles the limit"


def tally(rows: Sequence[Mapping]) -> str:
    counts = {s: sum(r["severity"] == s for r in rows) for s in SEVERITIES}
    parts = [f"{counts[s]} {s}" for s in SEVERITIES if counts[s]]
    return f"{plural(len(rows), 'test')}: " + ", ".join(parts)


def pair_text(row: Mapping) -> str:
    """Which groups the gap is between, or that there is none."""
    if row.get("lowest_group") is None or row.get("n_groups", 2) < 2:
        return "fewer than two groups large enough"
    ratio = "ratio" in str(row.get("statistic", ""))
    if row["lowest_group"] == row["highest_group"] or row.get("value") == (1 if ratio else 0):
        return "all groups equal"
    return f"{row['lowest_group']} vs {row['highest_group']}"


def disparity_findings(
    rows: list[dict], config: FairnessConfig, view: str, *, show_class: bool = False
) -> list[Finding]:
    """One finding per check (its worst test), from decided test rows; ``show_class``
    names the class of the worst test (multiclass models)."""
    findings = []
    together = (
        "intervals simultaneous over them"
        if config.correction == "simultaneous"
        else ("each interval alone")
    )
    for check in dict.fromkeys(r["check"] for r in rows):
        mine = [r for r in rows if r["check"] == check]
        top = worst(mine)
        where = top["grouping"] + (f", class {top['class']!r}" if show_class else "")
        pair = pair_text(top)
        value, low, high = (
            shown(top[k], top["threshold"], 3) if math.isfinite(top[k]) else "nan"
            for k in ("value", "low", "high")
        )
        base = top.get("base_rate_gap")
        beside = (
            f"; their base rates differ by {base:.3f}"
            if isinstance(base, float) and math.isfinite(base) and not top.get("mirrors_base_rate")
            else ""
        )
        message = (
            f"{check_text(check)} is {value} across {where} ({pair}{beside}); "
            f"{config.confidence:.0%} interval [{low}, {high}], limit "
            f"{top['threshold']:g}: {verdict_text(top)} ({tally(mine)}; {together})."
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
            every = [r for r in rows if r["attribute"] == attribute]
            # A pair with a term the model does not know measures its unknown-word token,
            # not the identity: such pairs are reported apart and take no part here.
            mine = [r for r in every if r.get("in_vocab", True)]
            known = {t for r in mine for t in (r["term_a"], r["term_b"])}
            unknown = sorted(
                {
                    t
                    for r in every
                    if not r.get("in_vocab", True)
                    for t in (r["term_a"], r["term_b"])
                    if t not in known
                }
            )
            apart = (
                f" {len(every) - len(mine)} pairs with terms the model does not know "
                f"({', '.join(unknown[:6])}{', ...' if len(unknown) > 6 else ''}) are left out "
                "of the verdict (see the identity-pair table)."
                if len(mine) < len(every)
                else ""
            )
            if not mine:
                findings.append(
                    Finding(
                        FAMILY,
                        f"identity_swap_{attribute}",
                        "inconclusive",
                        f"Every {attribute} term pair has a term the model does not know, so "
                        f"swapping them says nothing about {attribute}.{apart}",
                        Evidence(metric="mean_score_shift", view="identity_pairs_unknown"),
                    )
                )
                continue
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
                    f"prediction); {fails} of {len(mine)} known term pairs fail.{apart}",
                    Evidence(
                        metric="mean_score_shift",
                        value=top["mean_shift"],
                        interval=(top["mean_shift_low"], top["mean_shift_high"]),
                        threshold=config.max_score_shift,
                        group=f"{top['term_a']} -> {top['term_b']}",
                        view="identity_known_pairs",
                    ),
                )
            )
    for row in result.tables.get("identity_data_swaps", []):
        if row["term_a"] != "(all pairs)" or "flip_rate_low" not in row:
            continue
        severity = verdict(
            row["flip_rate"],
            row["flip_rate_low"],
            row["flip_rate_high"],
            config.max_flip_rate,
            higher_is_worse=True,
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


# -- mitigation ------------------------------------------------------------------------------

#: The disparities a mitigation is read on: column -> words.
MITIGATION_MEASURES = {
    "demographic_parity_difference": "demographic-parity difference",
    "equalized_odds_difference": "equalized-odds difference",
}


def mitigation_finding(result: FamilyResult, config: FairnessConfig) -> Finding:
    """Whether post-processing made a disparity worse: a warning when a measure it did not
    target rises above the limit, so nobody ships a "fix" that moves the harm."""
    before, after = result.tables["mitigation"][0], result.tables["mitigation"][-1]
    attribute = result.metrics.get("mitigation_attribute")
    constraint = result.metrics.get("mitigation_constraint", "")
    changes = {
        column: (before[column], after[column])
        for column in MITIGATION_MEASURES
        if math.isfinite(before.get(column, math.nan))
        and math.isfinite(after.get(column, math.nan))
    }
    worse = {
        column: pair
        for column, pair in changes.items()
        if pair[1] > pair[0] and pair[1] > config.max_difference
    }
    moved = "; ".join(
        f"{MITIGATION_MEASURES[c]} {b:.3f} -> {a:.3f}" for c, (b, a) in changes.items()
    )
    accuracy = f"accuracy {before['accuracy']:.1%} -> {after['accuracy']:.1%}"
    if worse:
        column, (b, a) = max(worse.items(), key=lambda kv: kv[1][1] - kv[1][0])
        message = (
            f"Mitigation makes {MITIGATION_MEASURES[column]} across {attribute} worse: "
            f"{after['stage'].removeprefix('after: ')} raises it from {b:.3f} to {a:.3f}, above the "
            f"{config.max_difference:g} limit ({moved}; {accuracy}; point estimates on "
            "held-out rows). Post-processing for one criterion moved the harm to another: "
            "do not ship it as a fix."
        )
        severity, value, base = "warn", a, b
    else:
        column = f"{constraint}_difference" if f"{constraint}_difference" in changes else None
        column = column or next(iter(changes), "demographic_parity_difference")
        base, value = changes.get(column, (math.nan, math.nan))
        message = (
            f"Mitigation ({after['stage']}) raises no disparity above the "
            f"{config.max_difference:g} limit across {attribute} ({moved}; {accuracy})."
        )
        severity = "pass"
    return Finding(
        FAMILY,
        "mitigation",
        severity,
        message,
        Evidence(
            metric=f"{column} after mitigation",
            value=value,
            threshold=config.max_difference,
            group=f"{attribute}: before {base:.3f}",
            view="mitigation",
        ),
        subject=attribute,
    )


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
