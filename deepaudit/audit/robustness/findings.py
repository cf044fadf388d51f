"""From attacks on a problem to the family's tables, metrics and findings.

Shared by classifiers and GAN discriminators: robust accuracy at the reference ε of
each threat model, the robustness gap between groups, and the sanity checks that say
whether the numbers can be trusted.
"""

from __future__ import annotations

import numpy as np

from deepaudit.audit.robustness import sanity
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.problem import Attacks, Problem
from deepaudit.audit.robustness.stats import median, proportion, severity_with_interval
from deepaudit.audit.robustness.tables import curve_rows, flip_rows, fmt_eps, gap_rows
from deepaudit.results import Evidence, FamilyResult, Finding

FAMILY = "robustness"


def graded_finding(
    check: str, message: str, evidence: Evidence, *, higher_is_worse: bool
) -> Finding:
    """A finding whose severity is where ``evidence``'s interval lies against its
    threshold (:func:`~deepaudit.audit.robustness.stats.severity_with_interval`)."""
    low, high = evidence.interval
    severity = severity_with_interval(
        evidence.value, low, high, evidence.threshold, higher_is_worse=higher_is_worse
    )
    return Finding(FAMILY, check, severity, message, evidence)


def _norm_label(norm: str) -> str:
    return "L∞" if norm == "Linf" else "L2"


def report_problem(
    problem: Problem,
    attacks: Attacks,
    options: RobustnessConfig,
    rng: np.random.Generator,
    result: FamilyResult,
    logits: np.ndarray | None,
) -> list[sanity.Check]:
    """Fill ``result`` with the curve, flipping-ε and gap tables, the robust-accuracy and
    gap findings and metrics; return the sanity checks (the caller adds its own)."""
    sensitive = problem.sensitive
    result.tables["curve"] = curve_rows(attacks, sensitive, options.confidence)
    result.tables["flip_epsilon"] = []
    result.tables["group_gaps"] = []
    result.arrays["attacked_ids"] = problem.sample_ids.astype(np.int64)
    for norm, sw in attacks.sweeps.items():
        space = problem.spaces[norm]
        result.tables["flip_epsilon"] += flip_rows(sw, sensitive, rng, options)
        gaps = gap_rows(sw, sensitive, rng, options)
        result.tables["group_gaps"] += gaps
        result.arrays[f"flip_epsilon_{norm}"] = sw.flip_epsilon.astype(np.float64)
        result.arrays[f"broken_at_{norm}"] = sw.broken_at
        k = reference_index(sw.grid, options)
        eps = sw.grid[k]
        clean = proportion(sw.correct, options.confidence)
        robust = proportion(sw.robust(k), options.confidence)
        flips = median(sw.flip_epsilon[sw.correct])
        success = proportion(~sw.robust(k)[sw.correct], options.confidence)
        suffix = f"_{norm}"
        result.metrics.update(
            {
                f"reference_epsilon{suffix}": eps,
                f"robust_accuracy{suffix}": robust["value"],
                f"attack_success_rate{suffix}": success["value"],
                f"median_flip_epsilon{suffix}": flips,
            }
        )
        if sw.fgsm_broken:
            fgsm_acc = float(np.mean(sw.correct & ~sw.fgsm_broken[eps]))
            result.metrics[f"fgsm_accuracy{suffix}"] = fgsm_acc
        result.findings.append(
            graded_finding(
                f"robust_accuracy{suffix}",
                f"Under {_norm_label(norm)} PGD ({options.steps} steps) at ε={fmt_eps(eps)} "
                f"(in units of {space.unit}), {problem.subject} falls from {clean['value']:.1%} "
                f"to {robust['value']:.1%} [{robust['ci_low']:.1%}, {robust['ci_high']:.1%}] "
                f"on {problem.n} samples{problem.limited}; the median flipping ε is "
                f"{fmt_eps(flips)} (floor {options.min_robust_accuracy:.0%}).",
                Evidence(
                    metric=f"robust_accuracy{suffix}",
                    value=robust["value"],
                    interval=(robust["ci_low"], robust["ci_high"]),
                    threshold=options.min_robust_accuracy,
                    table="curve",
                ),
                higher_is_worse=False,
            )
        )
        if norm == next(iter(attacks.sweeps)):
            result.findings += gap_findings(gaps, problem, options)
    first = attacks.first
    result.metrics["clean_accuracy_attacked"] = float(np.mean(first.correct))
    result.metrics["n_attacked"] = problem.n
    result.arrays["max_gradient"] = attacks.max_gradient.astype(np.float64)
    return problem_checks(problem, attacks, options, logits, result)


def gap_findings(gaps: list[dict], problem: Problem, options: RobustnessConfig) -> list[Finding]:
    """One finding per attribute: the survival gap between its best and worst group."""
    findings = []
    for row in gaps:
        if row["metric"] != "survival":
            continue
        findings.append(
            graded_finding(
                "robustness_gap",
                f"Robustness bias by {row['attribute']}: under {_norm_label(row['norm'])} PGD at "
                f"ε={fmt_eps(row['epsilon'])}, {row['worst_value']:.1%} of correctly classified "
                f"{row['attribute']}={row['worst_group']} samples survive against "
                f"{row['best_value']:.1%} of {row['attribute']}={row['best_group']} (gap "
                f"{row['gap']:.1%} [{row['ci_low']:.1%}, {row['ci_high']:.1%}], limit "
                f"{options.max_group_gap:.0%}); median flipping ε "
                f"{fmt_eps(row['worst_median_flip'])} vs {fmt_eps(row['best_median_flip'])}.",
                Evidence(
                    metric="survival_gap",
                    value=row["gap"],
                    interval=(row["ci_low"], row["ci_high"]),
                    threshold=options.max_group_gap,
                    group=f"{row['attribute']}={row['worst_group']}",
                    table="group_gaps",
                ),
                higher_is_worse=True,
            )
        )
    return findings


def problem_checks(
    problem: Problem,
    attacks: Attacks,
    options: RobustnessConfig,
    logits: np.ndarray | None,
    result: FamilyResult,
) -> list[sanity.Check]:
    """The AutoAttack-style checks that apply to any attacked classifier."""
    checks = []
    if logits is not None:
        checks.append(sanity.logits_check(logits))
    checks.append(
        sanity.zero_gradient_check(attacks.max_gradient, options.max_zero_gradient_fraction)
    )
    result.metrics["zero_gradient_fraction"] = checks[-1].value
    first = attacks.first
    broken, tried, smaller, larger = first.non_monotone
    if tried:
        checks.append(
            sanity.monotonicity_check(
                broken, tried, options.max_non_monotone_fraction, smaller, larger
            )
        )
    large_acc = float(np.mean(first.robust(len(first.grid) - 1) & ~first.broken_large))
    result.metrics["large_epsilon_accuracy"] = large_acc
    checks.append(
        sanity.large_epsilon_check(
            large_acc, 1.0 / problem.n_classes, first.large_epsilon, problem.limited
        )
    )
    if attacks.query_tried:
        gain, low = attacks.query_gain(problem.n, options.confidence)
        result.metrics["query_only_gain"] = gain
        checks.append(
            sanity.query_check(
                gain,
                low,
                attacks.query_broken,
                attacks.query_tried,
                options.max_query_gain,
                attacks.query_epsilon,
            )
        )
    return checks


def sanity_findings(checks: list[sanity.Check], result: FamilyResult) -> None:
    """The sanity table, a warning per failed check, one pass when all passed."""
    result.tables["sanity"] = [c.row() for c in checks]
    failed = [c for c in checks if not c.passed]
    for c in failed:
        result.findings.append(
            Finding(
                FAMILY,
                c.check,
                "warn",
                c.message,
                Evidence(metric=c.check, value=c.value, threshold=c.threshold, table="sanity"),
            )
        )
    if checks and not failed:
        result.findings.append(
            Finding(
                FAMILY,
                "sanity",
                "pass",
                f"All {len(checks)} sanity checks pass ("
                + ", ".join(c.check.replace("_", " ") for c in checks)
                + "): no sign of gradient masking.",
                Evidence(metric="sanity_checks_passed", value=len(checks), table="sanity"),
            )
        )
