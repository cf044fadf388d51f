"""From attacks on a problem to the family's tables and metrics.

Shared by classifiers and GAN discriminators: the curve, flipping-ε and gap tables, the
metrics the findings read (the reference ε and its unit, what was attacked), and the
sanity checks that say whether the numbers can be trusted. The findings themselves are
graded from these by :mod:`.grade`.
"""

from __future__ import annotations

import numpy as np

from deepaudit.audit.robustness import sanity
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.problem import Attacks, Problem
from deepaudit.audit.robustness.stats import median, proportion
from deepaudit.audit.robustness.tables import curve_rows, flip_rows, gap_rows
from deepaudit.results import FamilyResult


def report_problem(
    problem: Problem,
    attacks: Attacks,
    options: RobustnessConfig,
    rng: np.random.Generator,
    result: FamilyResult,
    logits: np.ndarray | None,
) -> list[sanity.Check]:
    """Fill ``result`` with the curve, flipping-ε and gap tables and the metrics; return
    the sanity checks (the caller adds its own)."""
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
        robust = proportion(sw.robust(k), options.confidence)
        flips = median(sw.flip_epsilon[sw.correct])
        if sw.flip_low is not None:  # brackets still wider than the tolerance
            finite = sw.correct & np.isfinite(sw.flip_epsilon) & (sw.flip_epsilon > 0)
            wide = sw.flip_epsilon > (1 + options.flip_tolerance) * sw.flip_low
            result.metrics[f"flip_unresolved_{norm}"] = int(np.sum(finite & wide))
        success = proportion(~sw.robust(k)[sw.correct], options.confidence)
        suffix = f"_{norm}"
        result.metrics.update(
            {
                f"reference_epsilon{suffix}": eps,
                f"robust_accuracy{suffix}": robust["value"],
                f"attack_success_rate{suffix}": success["value"],
                f"median_flip_epsilon{suffix}": flips,
                f"attack_unit{suffix}": space.unit,
            }
        )
        if sw.fgsm_broken:
            fgsm_acc = float(np.mean(sw.correct & ~sw.fgsm_broken[eps]))
            result.metrics[f"fgsm_accuracy{suffix}"] = fgsm_acc
    result.metrics["attack_subject"] = problem.subject
    result.metrics["attack_limits"] = problem.limited
    first = attacks.first
    result.metrics["clean_accuracy_attacked"] = float(np.mean(first.correct))
    result.metrics["n_attacked"] = problem.n
    result.arrays["max_gradient"] = attacks.max_gradient.astype(np.float64)
    return problem_checks(problem, attacks, options, logits, result)


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
        checks.append(sanity.logits_check(sanity.looks_like_probabilities(logits)))
    checks.append(
        sanity.zero_gradient_check(
            *sanity.zero_gradient_count(attacks.max_gradient), options.max_zero_gradient_fraction
        )
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


def sanity_table(checks: list[sanity.Check], result: FamilyResult) -> None:
    """The sanity table: one row per check, with the inputs that rebuild it."""
    result.tables["sanity"] = [c.row() for c in checks]
