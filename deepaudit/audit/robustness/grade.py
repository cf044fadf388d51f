"""The robustness family's findings, graded from its saved result and the limits.

Robust accuracy and attack success are read from the ``curve`` table at the reference ε
(``metrics["reference_epsilon_<norm>"]``), gaps from ``group_gaps``, natural
perturbations from ``natural``, latent stability from ``latent_stability``; the sanity
checks are rebuilt from the raw inputs each ``sanity`` row keeps. Each verdict reads a
value's interval against its limit.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from deepaudit.audit.robustness import sanity
from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.registry import BUILTIN_ATTACKS
from deepaudit.grading import verdict
from deepaudit.results import Evidence, FamilyResult, Finding
from deepaudit.schema import SchemaError

FAMILY = "robustness"

#: Autoencoders: (name, direction of the score, who is attacked, what success means).
DIRECTIONS = (
    ("hide_anomaly", -1, "anomalies", "hidden"),
    ("flag_normal", +1, "normal samples", "flagged"),
)

REGRADE_NEEDS_INPUTS = (
    "the sanity table of this bundle lacks the inputs of its checks, which re-grading "
    "needs: it was written by an older deepaudit (result schema 1); re-run the audit"
)


def graded_finding(
    check: str,
    message: str,
    evidence: Evidence,
    *,
    higher_is_worse: bool,
    subject: str | None = None,
) -> Finding:
    """A finding whose severity is where ``evidence``'s interval lies against its
    threshold, by the one rule of every family (:func:`deepaudit.grading.verdict`)."""
    low, high = evidence.interval
    severity = verdict(
        evidence.value, low, high, evidence.threshold, higher_is_worse=higher_is_worse
    )
    return Finding(FAMILY, check, severity, message, evidence, subject)


def row_evidence(
    metric: str, row: dict, key: str, threshold: float, view: str, group: str | None = None
) -> Evidence:
    """The evidence of a proportion or gap read from a table row: its value at ``key``
    and its interval (``ci_low``, ``ci_high``)."""
    return Evidence(
        metric=metric,
        value=row[key],
        interval=(row["ci_low"], row["ci_high"]),
        threshold=threshold,
        group=group,
        view=view,
    )


def fmt_eps(eps: float) -> str:
    if np.isinf(eps):
        return "∞"
    return f"{eps:.3g}"


def norm_label(norm: str) -> str:
    return "L∞" if norm == "Linf" else "L2"


def grade_robustness(result: FamilyResult, config: RobustnessConfig) -> list[Finding]:
    """Every robustness finding of ``result`` under the limits of ``config``."""
    m = result.metrics
    found: list[Finding] = []
    if "flag_rate" in m and "anomaly_threshold" in m:  # an autoencoder
        found += _autoencoder(result, config)
    else:
        found += _attacked_classifier(result, config)
        if "word_robust_accuracy" in m:
            found.append(_words(result, config))
        if result.tables.get("natural"):
            natural = natural_finding(result.tables["natural"], config)
            if natural is not None:
                found.append(natural)
        if "latent_label_flip_rate" in m:
            found.append(_latent(result, config))
    found += sanity_findings(result, config)
    return found


def _curve_row(result: FamilyResult, epsilon: float, **where) -> dict | None:
    for row in result.tables.get("curve", []):
        if (
            row["attribute"] == "overall"
            and row["epsilon"] == epsilon
            and all(row.get(k) == v for k, v in where.items())
        ):
            return row
    return None


def _flip_text(result: FamilyResult, norm: str, value: float) -> str:
    """The median flipping ε with its interval, from the overall ``flip_epsilon`` row."""
    for row in result.tables.get("flip_epsilon", []):
        overall = row["norm"] == norm and row["attribute"] == "overall"
        known = np.isfinite(row["ci_low"]) and not np.isnan(row["ci_high"])
        if overall and not row.get("direction") and known:
            return f"{fmt_eps(value)} [{fmt_eps(row['ci_low'])}, {fmt_eps(row['ci_high'])}]"
    return fmt_eps(value)


def _attacked_classifier(result: FamilyResult, config: RobustnessConfig) -> list[Finding]:
    """Robust accuracy at the reference ε of each norm, and the survival gaps between
    groups under the first norm (classifiers and GAN discriminators)."""
    m = result.metrics
    found = []
    norms = [n for n in config.norms if f"reference_epsilon_{n}" in m]
    for norm in norms:
        eps = m[f"reference_epsilon_{norm}"]
        clean = _curve_row(result, 0.0, attack="PGD", norm=norm)
        robust = _curve_row(result, eps, attack="PGD", norm=norm)
        flips = _flip_text(result, norm, m[f"median_flip_epsilon_{norm}"])
        found.append(
            graded_finding(
                f"robust_accuracy_{norm}",
                f"Under {norm_label(norm)} PGD ({config.steps} steps) at ε={fmt_eps(eps)} "
                f"(in units of {m[f'attack_unit_{norm}']}), {m['attack_subject']} falls from "
                f"{clean['accuracy']:.1%} to {robust['accuracy']:.1%} "
                f"[{robust['ci_low']:.1%}, {robust['ci_high']:.1%}] on {robust['n']} "
                f"samples{m['attack_limits']}; the median flipping ε is {flips} "
                f"(floor {config.min_robust_accuracy:.0%}).",
                row_evidence(
                    f"robust_accuracy_{norm}",
                    robust,
                    "accuracy",
                    config.min_robust_accuracy,
                    "curve",
                ),
                higher_is_worse=False,
            )
        )
        if norm == norms[0]:
            found += gap_findings(result.tables.get("group_gaps", []), norm, config)
    found += registered_attack_findings(result, config)
    return found


def registered_attack_findings(result: FamilyResult, config: RobustnessConfig) -> list[Finding]:
    """Robust accuracy under each registered attack at the reference ε of its norm."""
    m = result.metrics
    found = []
    seen = {(r["attack"], r["norm"]) for r in result.tables.get("curve", [])}
    for attack, norm in sorted(a for a in seen if a[0] not in BUILTIN_ATTACKS):
        key = f"reference_epsilon_{norm}"
        if key not in m:
            continue
        eps = m[key]
        clean = _curve_row(result, 0.0, attack="PGD", norm=norm)
        robust = _curve_row(result, eps, attack=attack, norm=norm)
        if robust is None:
            continue
        found.append(
            graded_finding(
                f"attack:{attack}",
                f"Under the registered attack {attack!r} ({norm_label(norm)}) at "
                f"ε={fmt_eps(eps)}, {m['attack_subject']} falls from {clean['accuracy']:.1%} to "
                f"{robust['accuracy']:.1%} [{robust['ci_low']:.1%}, {robust['ci_high']:.1%}] on "
                f"{robust['n']} samples (floor {config.min_robust_accuracy:.0%}).",
                row_evidence(
                    "robust_accuracy",
                    robust,
                    "accuracy",
                    config.min_robust_accuracy,
                    "curve",
                    group=attack,
                ),
                higher_is_worse=False,
            )
        )
    return found


def gap_findings(gaps: list[dict], norm: str, config: RobustnessConfig) -> list[Finding]:
    """One finding per attribute: the survival gap between its best and worst group."""
    findings = []
    for row in gaps:
        if row["metric"] != "survival" or row["norm"] != norm or row.get("direction"):
            continue
        findings.append(
            graded_finding(
                "robustness_gap",
                f"Robustness bias by {row['attribute']}: under {norm_label(row['norm'])} PGD at "
                f"ε={fmt_eps(row['epsilon'])}, {row['worst_value']:.1%} of correctly classified "
                f"{row['attribute']}={row['worst_group']} samples survive against "
                f"{row['best_value']:.1%} of {row['attribute']}={row['best_group']} (gap "
                f"{row['gap']:.1%} [{row['ci_low']:.1%}, {row['ci_high']:.1%}], limit "
                f"{config.max_group_gap:.0%}); median flipping ε "
                f"{fmt_eps(row['worst_median_flip'])} vs {fmt_eps(row['best_median_flip'])}.",
                row_evidence(
                    "survival_gap",
                    row,
                    "gap",
                    config.max_group_gap,
                    "group_gaps",
                    group=f"{row['attribute']}={row['worst_group']}",
                ),
                higher_is_worse=True,
                subject=row["attribute"],
            )
        )
    return findings


def _words(result: FamilyResult, config: RobustnessConfig) -> Finding:
    k = config.max_changed_words
    robust = _curve_row(result, float(k), attack="word substitution")
    clean = _curve_row(result, 0.0, attack="word substitution")
    return graded_finding(
        "word_substitution",
        f"Changing at most {k} words to their nearest neighbours "
        f"in the model's embedding takes accuracy from {clean['accuracy']:.1%} to "
        f"{robust['accuracy']:.1%} [{robust['ci_low']:.1%}, {robust['ci_high']:.1%}] on "
        f"{robust['n']} texts (floor {config.min_robust_accuracy:.0%}).",
        row_evidence(
            "word_robust_accuracy",
            robust,
            "accuracy",
            config.min_robust_accuracy,
            "curve",
        ),
        higher_is_worse=False,
    )


def natural_finding(rows: list[dict], config: RobustnessConfig) -> Finding | None:
    """The most damaging natural perturbation (over everyone)."""
    worst = None
    for row in rows:
        if row["attribute"] == "overall" and (worst is None or row["drop"] > worst["drop"]):
            worst = row
    if worst is None:
        return None
    # Interval of the drop: the perturbed accuracy's interval, shifted by the clean one.
    low, high = (
        worst["clean_accuracy"] - worst["ci_high"],
        worst["clean_accuracy"] - worst["ci_low"],
    )
    return graded_finding(
        "natural_perturbations",
        f"The most damaging natural perturbation, {worst['perturbation'].replace('_', ' ')} "
        f"at severity {worst['severity']:g}, takes accuracy from {worst['clean_accuracy']:.1%} "
        f"to {worst['accuracy']:.1%} [{worst['ci_low']:.1%}, {worst['ci_high']:.1%}] on "
        f"{worst['n']} samples (a drop of {worst['drop']:.1%}; limit {config.max_natural_drop:.0%}).",
        Evidence(
            metric="natural_drop",
            value=worst["drop"],
            interval=(low, high),
            threshold=config.max_natural_drop,
            view="natural",
        ),
        higher_is_worse=True,
    )


def _latent(result: FamilyResult, config: RobustnessConfig) -> Finding:
    rows = result.tables["latent_stability"]
    radius = min(r["radius"] for r in rows)
    random_row, worst_row = [r for r in rows if r["radius"] == radius][:2]
    amplification = result.metrics["latent_worst_to_random"]
    return graded_finding(
        "latent_stability",
        f"Moving each latent code by {radius:.0%} of its norm in a random "
        f"direction changes the label of {random_row['label_flip_rate']:.1%} "
        f"[{random_row['ci_low']:.1%}, {random_row['ci_high']:.1%}] of {random_row['n']} "
        f"generated samples, in the worst direction {worst_row['label_flip_rate']:.1%} (limit "
        f"{config.max_latent_flip_rate:.0%}); the worst direction moves the output "
        f"{amplification:.1f}× as far as a random one.",
        row_evidence(
            "latent_label_flip_rate",
            random_row,
            "label_flip_rate",
            config.max_latent_flip_rate,
            "latent_stability",
        ),
        higher_is_worse=True,
    )


def _autoencoder(result: FamilyResult, config: RobustnessConfig) -> list[Finding]:
    """Per adversary (under the first norm): its success at the reference ε, and the gap
    between groups."""
    m = result.metrics
    norm = config.norms[0]
    found = []
    for name, _, who, verb in DIRECTIONS:
        key = f"reference_epsilon_{name}_{norm}"
        if key not in m:
            continue
        eps = m[key]
        rate = _curve_row(result, eps, direction=name, norm=norm)
        found.append(
            graded_finding(
                name,
                f"A perturbation of ε={fmt_eps(eps)} (L{'∞' if norm == 'Linf' else '2'}, in "
                f"units of {m[f'attack_unit_{norm}']}) gets {rate['success_rate']:.1%} "
                f"[{rate['ci_low']:.1%}, {rate['ci_high']:.1%}] of {rate['n']} {who} {verb} "
                f"(limit {config.max_evasion_rate:.0%}); the median ε needed is "
                f"{fmt_eps(m[f'median_flip_epsilon_{name}_{norm}'])}.",
                row_evidence(
                    f"{name}_rate",
                    rate,
                    "success_rate",
                    config.max_evasion_rate,
                    "curve",
                ),
                higher_is_worse=True,
            )
        )
        for row in result.tables.get("group_gaps", []):
            if row.get("direction") != name or row["norm"] != norm:
                continue
            found.append(
                graded_finding(
                    "robustness_gap",
                    f"By {row['attribute']}: at ε={fmt_eps(eps)}, {row['best_value']:.1%} of "
                    f"{row['attribute']}={row['best_group']} {who} get {verb} against "
                    f"{row['worst_value']:.1%} of {row['attribute']}={row['worst_group']} (gap "
                    f"{row['gap']:.1%} [{row['ci_low']:.1%}, {row['ci_high']:.1%}], limit "
                    f"{config.max_group_gap:.0%}).",
                    row_evidence(
                        f"{name}_gap",
                        row,
                        "gap",
                        config.max_group_gap,
                        "group_gaps",
                        group=f"{row['attribute']}={row['best_group']}",
                    ),
                    higher_is_worse=True,
                    subject=f"{name}:{row['attribute']}",
                )
            )
    return found


def refresh_verdicts(result: FamilyResult, config: RobustnessConfig) -> FamilyResult:
    """``result`` with its sanity table read again under ``config``'s limits."""
    tables = dict(result.tables)
    if "sanity" in tables:
        tables["sanity"] = [c.row() for c in sanity_checks(result, config)]
    refreshed = dataclasses.replace(result, tables=tables)
    return dataclasses.replace(refreshed, findings=grade_robustness(refreshed, config))


def sanity_checks(result: FamilyResult, config: RobustnessConfig) -> list[sanity.Check]:
    """The sanity checks the result records, rebuilt under ``config``'s limits."""
    rows = result.tables.get("sanity", [])
    if any("inputs" not in r for r in rows):
        raise SchemaError(REGRADE_NEEDS_INPUTS)
    return [sanity.from_row(r, config) for r in rows]


def sanity_findings(result: FamilyResult, config: RobustnessConfig) -> list[Finding]:
    """A warning per failed sanity check, one pass when all passed."""
    checks = sanity_checks(result, config)
    failed = [c for c in checks if not c.passed]
    found = [
        Finding(
            FAMILY,
            c.check,
            "warn",
            c.message,
            Evidence(metric=c.check, value=c.value, threshold=c.threshold, view="sanity"),
        )
        for c in failed
    ]
    if checks and not failed:
        found.append(
            Finding(
                FAMILY,
                "sanity",
                "pass",
                f"All {len(checks)} sanity checks pass ("
                + ", ".join(c.check.replace("_", " ") for c in checks)
                + "): no sign of gradient masking.",
                Evidence(metric="sanity_checks_passed", value=len(checks), view="sanity"),
            )
        )
    return found
