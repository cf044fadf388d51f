"""The overview family's findings, graded from its saved result and the limits."""

from __future__ import annotations

import numpy as np

from deepaudit.audit.overview.config import OverviewConfig
from deepaudit.grading import shown, verdict
from deepaudit.results import Evidence, FamilyResult, Finding

FAMILY = "overview"


def grade_overview(result: FamilyResult, config: OverviewConfig) -> list[Finding]:
    """Classifier, autoencoder or generator findings, by what the result holds."""
    metrics = result.metrics
    if "prediction_counts" in result.tables:
        return _classifier(result, config)
    if "mean_error" in metrics:
        return _autoencoder(result, config)
    if "n_generated" in metrics:
        return _generator(result, config)
    return []


def _classifier(result: FamilyResult, config: OverviewConfig) -> list[Finding]:
    metrics = result.metrics
    if "accuracy" not in metrics:
        return [
            Finding(
                FAMILY,
                "labels",
                "warn",
                "No labels were given, so accuracy and calibration were not measured.",
                Evidence(metric="n_labelled", value=0),
            )
        ]
    acc = metrics["accuracy"]
    low, high = metrics.get("accuracy_low"), metrics.get("accuracy_high")
    interval = None if low is None or high is None else (low, high)
    floor = config.min_accuracy
    shown_interval = (
        ""
        if interval is None
        else f" [{shown(low * 100, floor * 100, 1)}%, {shown(high * 100, floor * 100, 1)}%]"
    )
    found = [
        Finding(
            FAMILY,
            "accuracy",
            verdict(acc, low, high, floor, higher_is_worse=False),
            f"Accuracy is {shown(acc * 100, floor * 100, 1)}%{shown_interval} on "
            f"{metrics['n_samples']:,} samples (balanced accuracy "
            f"{metrics['balanced_accuracy']:.1%}; the floor is {floor:.0%}).",
            Evidence(
                metric="accuracy",
                value=acc,
                interval=interval,
                threshold=floor,
                view="per_class",
            ),
        )
    ]
    per_class = result.rows("per_class")
    worst = min(per_class, key=lambda r: r.recall if r.support else 1.0)
    if worst.support and worst.recall < config.min_accuracy:
        found.append(
            Finding(
                FAMILY,
                "class_recall",
                "warn",
                f"Class {worst.class_!r} is recognised in only {worst.recall:.1%} of its "
                f"{worst.support} samples.",
                Evidence(
                    metric="recall",
                    value=worst.recall,
                    threshold=config.min_accuracy,
                    group=str(worst.class_),
                    view="per_class",
                ),
            )
        )
    ece = metrics["ece"]
    severity = "warn" if ece > config.max_ece else "pass"
    n_bins = metrics.get("n_bins", config.n_bins)
    found.append(
        Finding(
            FAMILY,
            "calibration",
            severity,
            f"Expected calibration error is {ece:.3f} ({n_bins} bins; "
            f"{'above' if severity == 'warn' else 'within'} the {config.max_ece:.3f} limit): "
            + (
                "its probabilities should not be read as frequencies."
                if severity == "warn"
                else "its probabilities match observed frequencies."
            ),
            Evidence(metric="ece", value=ece, threshold=config.max_ece, view="reliability"),
        )
    )
    return found


def _autoencoder(result: FamilyResult, config: OverviewConfig) -> list[Finding]:
    metrics = result.metrics
    found = []
    if "error_ratio" in metrics:
        ratio = metrics["error_ratio"]
        severity = verdict(ratio, None, None, config.max_error_ratio, higher_is_worse=True)
        found.append(
            Finding(
                FAMILY,
                "generalisation",
                "warn" if severity == "fail" else "pass",
                f"Mean reconstruction error on the evaluation data is {ratio:.2f}× that on the "
                f"reference data (limit {config.max_error_ratio:.2f}×).",
                Evidence(
                    metric="error_ratio",
                    value=ratio,
                    threshold=config.max_error_ratio,
                    view="error_histogram",
                ),
            )
        )
    worst = result.arrays.get("worst_ids")
    found.append(
        Finding(
            FAMILY,
            "flag_rate",
            "pass",
            f"{metrics['flag_rate']:.1%} of {metrics['n_samples']} samples are flagged as "
            f"anomalies (reconstruction error above {metrics['anomaly_threshold']:.4g}).",
            Evidence(
                metric="flag_rate",
                value=metrics["flag_rate"],
                threshold=metrics["anomaly_threshold"],
                sample_ids=() if worst is None else tuple(int(i) for i in np.asarray(worst)),
                view="error_histogram",
            ),
        )
    )
    return found


def _generator(result: FamilyResult, config: OverviewConfig) -> list[Finding]:
    metrics = result.metrics
    found = []
    if "mean_gap" in metrics:
        gap = max(metrics["mean_gap"], metrics["std_gap"])
        found.append(
            Finding(
                FAMILY,
                "sample_statistics",
                "warn" if gap > config.max_moment_gap else "pass",
                f"Generated samples' mean and spread differ from the real data's by up to "
                f"{gap:.2f} standard deviations (limit {config.max_moment_gap:.2f}).",
                Evidence(
                    metric="moment_gap",
                    value=float(gap),
                    threshold=config.max_moment_gap,
                    view="sample_statistics",
                ),
            )
        )
    out_of_range = metrics["out_of_range_fraction"]
    lo, hi = metrics.get("input_range", (0.0, 1.0))
    found.append(
        Finding(
            FAMILY,
            "range",
            "warn" if out_of_range > 0 else "pass",
            f"{out_of_range:.2%} of generated values fall outside the valid input range "
            f"[{lo:g}, {hi:g}].",
            Evidence(
                metric="out_of_range_fraction", value=out_of_range, threshold=0.0, view="samples"
            ),
        )
    )
    return found
