"""The generative family's findings, graded from its saved result and the limits.

Each check has a fail and a warn threshold (for "higher is better" checks the fail
threshold is the lower one), read by the one rule every family uses: a measurement whose
interval straddles the fail threshold is inconclusive.
"""

from __future__ import annotations

import numpy as np

from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.grading import verdict
from deepaudit.results import Evidence, FamilyResult, Finding

FAMILY = "generative"


def grade(
    value: float | None,
    fail: float,
    warn: float,
    *,
    lower_is_worse: bool,
    interval: tuple[float, float] | None = None,
) -> str:
    """The one rule (:func:`deepaudit.grading.verdict`) with the fail threshold as the
    limit: ``fail`` when the whole interval lies beyond it, ``inconclusive`` when the
    interval straddles it (or there is no value); within it, ``warn`` when the value lies
    beyond the warn threshold, else ``pass``. Without an interval the value stands for it.
    """
    low, high = (None, None) if interval is None else interval
    return verdict(value, low, high, fail, higher_is_worse=not lower_is_worse, warn=warn)


def grade_generative(result: FamilyResult, config: GenerativeConfig) -> list[Finding]:
    """A generator's or an autoencoder's findings, by what the result holds."""
    if "fidelity" in result.tables:
        return generator_findings(result, config)
    if "feature_errors" in result.tables:
        return autoencoder_findings(result, config)
    return []


def _interval(result: FamilyResult, metric: str) -> tuple[float, float] | None:
    for row in result.tables["fidelity"]:
        if row["metric"] == metric and row["interval_low"] is not None:
            return (row["interval_low"], row["interval_high"])
    return None


def generator_findings(result: FamilyResult, options: GenerativeConfig) -> list[Finding]:
    """Fidelity, coverage, mode collapse, Fréchet distance and memorisation."""
    m = result.metrics
    out = []
    precision, interval = m["precision"], _interval(result, "precision")
    out.append(
        Finding(
            FAMILY,
            "fidelity",
            grade(
                precision,
                options.fail_precision,
                options.warn_precision,
                lower_is_worse=True,
                interval=interval,
            ),
            f"{precision:.1%} of generated samples lie on the real-data manifold (precision, "
            f"k={options.k}, {m['feature_space']}; warn below {options.warn_precision:.0%}, "
            f"fail below {options.fail_precision:.0%}); density {m['density']:.2f}.",
            Evidence(
                metric="precision",
                value=precision,
                interval=interval,
                threshold=options.fail_precision,
                view="fidelity",
            ),
        )
    )
    coverage, interval = m["coverage"], _interval(result, "coverage")
    by_class = result.tables.get("coverage_by_class")
    worst = min(by_class, key=lambda r: r["coverage"]) if by_class else None
    out.append(
        Finding(
            FAMILY,
            "coverage",
            grade(
                coverage,
                options.fail_coverage,
                options.warn_coverage,
                lower_is_worse=True,
                interval=interval,
            ),
            f"{coverage:.1%} of real samples have a generated sample nearby (coverage; recall "
            f"{m['recall']:.1%}; warn below {options.warn_coverage:.0%}, fail below "
            f"{options.fail_coverage:.0%})"
            + (
                f"; the least covered class is {worst['class']!r} ({worst['coverage']:.1%})."
                if worst
                else "."
            ),
            Evidence(
                metric="coverage",
                value=coverage,
                interval=interval,
                threshold=options.fail_coverage,
                group=None if worst is None else worst["class"],
                sample_ids=tuple(int(i) for i in result.arrays["uncovered_ids"]),
                view="coverage_by_class" if by_class else "fidelity",
            ),
        )
    )
    ratio = m["diversity_ratio"]
    out.append(
        Finding(
            FAMILY,
            "mode_collapse",
            grade(
                ratio,
                options.fail_diversity_ratio,
                options.warn_diversity_ratio,
                lower_is_worse=True,
            ),
            f"Generated samples are {ratio:.2f}× as spread out as real ones (mean pairwise "
            f"distance; below {options.warn_diversity_ratio:.2f}× suggests mode collapse).",
            Evidence(
                metric="diversity_ratio",
                value=ratio,
                threshold=options.fail_diversity_ratio,
                view="diversity",
            ),
        )
    )
    if "frechet_ratio" in m:
        fr = m["frechet_ratio"]
        fd_interval = _interval(result, "frechet_distance")
        base = max(m["baseline_frechet_distance"], 1e-12)
        ratio_interval = (
            None if fd_interval is None else (fd_interval[0] / base, fd_interval[1] / base)
        )
        out.append(
            Finding(
                FAMILY,
                "frechet_distance",
                grade(
                    fr,
                    options.fail_frechet_ratio,
                    options.warn_frechet_ratio,
                    lower_is_worse=False,
                    interval=ratio_interval,
                ),
                f"The Fréchet distance to real samples is {m['frechet_distance']:.4g}, "
                f"{fr:.1f}× that between training and held-out real samples "
                f"(warn above {options.warn_frechet_ratio:g}×, fail above "
                f"{options.fail_frechet_ratio:g}×).",
                Evidence(
                    metric="frechet_ratio",
                    value=fr,
                    interval=ratio_interval,
                    threshold=options.fail_frechet_ratio,
                    view="fidelity",
                ),
            )
        )
    if "copy_share" not in m:
        out.append(
            Finding(
                FAMILY,
                "memorisation",
                "inconclusive",
                "Memorisation was not measured: the target has no training data "
                "(Target(train_data=...)).",
                Evidence(metric="copy_share", view="memorisation"),
            )
        )
    else:
        interval = (m["copy_share_low"], m["copy_share_high"])
        out.append(
            Finding(
                FAMILY,
                "memorisation",
                grade(
                    m["copy_share"],
                    options.fail_copy_share,
                    options.warn_copy_share,
                    lower_is_worse=False,
                    interval=interval,
                ),
                f"{m['copy_share']:.1%} of generated samples are closer to a training sample "
                f"than {1 - m['copy_quantile']:.0%} of held-out real samples"
                f"{' of their class' if m.get('copy_threshold_by_class') else ''} are "
                f"(at most {m.get('expected_copy_share', m['copy_quantile']):.1%} expected "
                f"by chance; warn above "
                f"{options.warn_copy_share:.0%}, fail above {options.fail_copy_share:.0%}); "
                f"a generated sample is closer than a held-out one with probability "
                f"{m['closer_than_heldout_probability']:.2f}.",
                Evidence(
                    metric="copy_share",
                    value=m["copy_share"],
                    interval=interval,
                    threshold=options.fail_copy_share,
                    sample_ids=tuple(int(i) for i in result.arrays["copy_ids"]),
                    view="memorisation",
                ),
            )
        )
    return out


def autoencoder_findings(result: FamilyResult, options: GenerativeConfig) -> list[Finding]:
    """Error shift against the reference data, anomaly drivers, per-feature errors."""
    findings = []
    m = result.metrics
    rows = result.tables["feature_errors"]
    names = [r["feature"] for r in rows]
    if "error_shift_ks" in m:
        ks = m["error_shift_ks"]
        severity = grade(
            ks, options.fail_error_shift, options.warn_error_shift, lower_is_worse=False
        )
        findings.append(
            Finding(
                FAMILY,
                "error_shift",
                severity,
                f"Reconstruction errors on held-out data differ from those on the reference "
                f"data by a Kolmogorov–Smirnov distance of {ks:.3f} (p = {m['error_shift_p_value']:.2g}; "
                f"warn above {options.warn_error_shift:g}, fail above {options.fail_error_shift:g}); "
                f"mean error {m['heldout_mean_error']:.4g} vs {m['reference_mean_error']:.4g}.",
                Evidence(
                    metric="error_shift_ks",
                    value=ks,
                    threshold=options.fail_error_shift,
                    view="error_distributions",
                ),
            )
        )
    if m["n_flagged"] > 0:
        shares = np.array([r["flagged_share"] for r in rows], dtype=np.float64)
        top = int(np.nanargmax(shares))
        share = float(shares[top])
        concentrated = share > options.max_feature_share
        findings.append(
            Finding(
                FAMILY,
                "anomaly_drivers",
                "warn" if concentrated else "pass",
                f"{share:.0%} of the reconstruction error of the {m['n_flagged']} flagged "
                f"samples comes from {names[top]!r}"
                + (
                    ": the detector mostly flags unusual values of this one feature."
                    if concentrated
                    else f" (no feature carries over {options.max_feature_share:.0%})."
                ),
                Evidence(
                    metric="flagged_share",
                    value=share,
                    threshold=options.max_feature_share,
                    group=names[top],
                    sample_ids=tuple(int(i) for i in result.arrays["worst_ids"]),
                    view="feature_errors",
                ),
            )
        )
    else:
        findings.append(
            Finding(
                FAMILY,
                "anomaly_drivers",
                "inconclusive",
                "No held-out sample is flagged as an anomaly, so there is nothing to attribute.",
                Evidence(metric="flagged_share", view="feature_errors"),
            )
        )
    ratios = [r.get("error_ratio", float("nan")) for r in rows]
    if not all(np.isnan(ratios)):
        worst = int(np.nanargmax(ratios))
        ratio = float(ratios[worst])
        findings.append(
            Finding(
                FAMILY,
                "feature_generalisation",
                "warn" if ratio > options.max_feature_error_ratio else "pass",
                f"The feature reconstructed worst on held-out data relative to the reference "
                f"data is {names[worst]!r}: {ratio:.2f}× its reference error "
                f"(limit {options.max_feature_error_ratio:.2f}×).",
                Evidence(
                    metric="error_ratio",
                    value=ratio,
                    threshold=options.max_feature_error_ratio,
                    group=names[worst],
                    view="feature_errors",
                ),
            )
        )
    return findings
