"""The overview family's measuring: metrics computed by scikit-learn, folded batch by
batch over streams (its findings are graded in :mod:`.grade`)."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest
from sklearn import metrics as skm

from deepaudit.audit.engine import error_kernel, map_batches, proba_kernel
from deepaudit.audit.overview.config import OverviewConfig
from deepaudit.audit.overview.result import OverviewResult
from deepaudit.audit.target import Target

#: Rows whose errors an autoencoder's flag-rate finding names (the largest first).
N_WORST = 10


#: Score bins of the ROC AUC computed from aggregates (beyond ``exact_rows``).
AUC_BINS = 4096


def expected_calibration_error(
    proba: np.ndarray, labels: np.ndarray, n_bins: int = 10
) -> tuple[float, dict[str, np.ndarray]]:
    """Top-label expected calibration error and its reliability curve.

    Samples are binned by the probability of the predicted class on equal-width bins of
    [0, 1]; ECE is the sample-weighted mean of |accuracy - confidence| over bins.
    Returns the ECE and per-bin edges, counts, mean confidence and accuracy (NaN where
    a bin is empty).
    """
    return reliability(calibration_sums(proba, labels, n_bins))


def calibration_sums(proba: np.ndarray, labels: np.ndarray, n_bins: int) -> np.ndarray:
    """Per confidence bin: samples, summed confidence, summed correctness (3 × n_bins).

    Bin b holds (b/n, (b+1)/n]; a confidence of exactly 0 joins the first bin (the bins
    of the fairness audit's calibration error). Sums of batches add up.
    """
    from deepaudit.audit.fairness.metrics import score_bins  # here: fairness registers on import

    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == labels).astype(np.float64)
    which = score_bins(confidence, n_bins)
    return np.stack(
        [
            np.bincount(which, minlength=n_bins).astype(np.float64),
            np.bincount(which, weights=confidence, minlength=n_bins),
            np.bincount(which, weights=correct, minlength=n_bins),
        ]
    )


def reliability(sums: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """ECE and the reliability curve from :func:`calibration_sums`."""
    counts, conf_sum, acc_sum = sums[0].astype(np.int64), sums[1], sums[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, conf_sum / counts, np.nan)
        accuracy = np.where(counts > 0, acc_sum / counts, np.nan)
    ece = float(np.abs(acc_sum - conf_sum).sum() / max(1, int(counts.sum())))
    return ece, {
        "edges": np.linspace(0.0, 1.0, len(counts) + 1),
        "counts": counts,
        "confidence": mean_conf,
        "accuracy": accuracy,
    }


def _balanced_accuracy(labels: np.ndarray, pred: np.ndarray) -> float:
    """sklearn's, without its warning for a class absent from the labels (the overview
    says so in a note)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(skm.balanced_accuracy_score(labels, pred))


def classifier_overview(proba: np.ndarray, labels: np.ndarray, n_bins: int) -> dict:
    """Every overview metric of a classifier from its probabilities and the labels."""
    n_classes = proba.shape[1]
    classes = np.arange(n_classes)
    pred = proba.argmax(axis=1)
    binary = n_classes == 2
    present = np.unique(labels)
    if binary and len(present) == 2:
        auc = float(skm.roc_auc_score(labels, proba[:, 1]))
    elif not binary and len(present) == n_classes:
        auc = float(skm.roc_auc_score(labels, proba, multi_class="ovr", average="macro"))
    else:
        auc = float("nan")  # undefined when a class is absent from the labels
    ece, curve = expected_calibration_error(proba, labels, n_bins)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, pred, labels=classes, zero_division=0
    )
    return {
        "metrics": {
            "n_samples": len(labels),
            "accuracy": float(skm.accuracy_score(labels, pred)),
            "balanced_accuracy": _balanced_accuracy(labels, pred),
            "f1": float(
                skm.f1_score(labels, pred, average="binary" if binary else "macro", zero_division=0)
            ),
            "f1_average": "binary" if binary else "macro",
            "roc_auc": auc,
            "log_loss": float(skm.log_loss(labels, np.clip(proba, 1e-15, 1.0), labels=classes)),
            "brier": float(np.mean(np.sum((proba - np.eye(n_classes)[labels]) ** 2, axis=1))),
            "ece": ece,
        },
        "per_class": [
            {
                "class": int(c),
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c in classes
        ],
        "confusion_matrix": skm.confusion_matrix(labels, pred, labels=classes),
        "reliability": curve,
    }


class ClassifierTally:
    """The overview metrics of a classifier, folded batch by batch.

    Keeps the scores (for scikit-learn's exact ROC AUC and log-loss) while there are at
    most ``exact_rows`` rows; past that it lets them go and finishes from aggregates
    only: the confusion matrix, the calibration bins, log-loss and Brier sums and a
    histogram of each class's scores by label.
    """

    def __init__(self, n_bins: int, exact_rows: int) -> None:
        self.n_bins, self.exact_rows = n_bins, exact_rows
        self.n = 0
        self.kept: list[tuple[np.ndarray, np.ndarray | None]] | None = []
        self.n_classes: int | None = None

    def _start(self, n_classes: int) -> None:
        self.n_classes = c = n_classes
        self.predicted = np.zeros(c, dtype=np.int64)
        self.confusion = np.zeros((c, c), dtype=np.int64)
        self.calibration = np.zeros((3, self.n_bins))
        self.log_loss_sum = self.brier_sum = 0.0
        self.histogram = np.zeros((c, 2, AUC_BINS), dtype=np.int64)  # class, is-class, bin

    def add(self, proba: np.ndarray, labels: np.ndarray | None) -> None:
        if self.n_classes is None:
            self._start(proba.shape[1])
        c = self.n_classes
        pred = proba.argmax(axis=1)
        self.predicted += np.bincount(pred, minlength=c)
        self.n += len(proba)
        if self.kept is not None:
            self.kept.append((proba, labels))
            if self.n > self.exact_rows:
                self.kept = None
        if labels is None:
            return
        labels = np.asarray(labels, dtype=np.int64)
        self.confusion += np.bincount(labels * c + pred, minlength=c * c).reshape(c, c)
        self.calibration += calibration_sums(proba, labels, self.n_bins)
        truth = proba[np.arange(len(labels)), labels]
        self.log_loss_sum -= float(np.log(np.clip(truth, 1e-15, 1.0)).sum())
        onehot = np.eye(c)[labels]
        self.brier_sum += float(np.sum((proba - onehot) ** 2))
        bins = np.minimum((proba * AUC_BINS).astype(np.int64), AUC_BINS - 1)
        for k in range(c):
            flat = (labels == k).astype(np.int64) * AUC_BINS + bins[:, k]
            self.histogram[k] += np.bincount(flat, minlength=2 * AUC_BINS).reshape(2, AUC_BINS)

    @property
    def exact(self) -> bool:
        return self.kept is not None

    def proba(self) -> np.ndarray:
        return np.concatenate([p for p, _ in self.kept])

    def finish(self) -> dict:
        """The metrics of :func:`classifier_overview`, exact or from aggregates."""
        if self.exact:
            labels = np.concatenate([y for _, y in self.kept])
            return classifier_overview(self.proba(), labels, self.n_bins)
        return self._from_aggregates()

    def _from_aggregates(self) -> dict:
        c, cm, n = self.n_classes, self.confusion, self.n
        tp = np.diag(cm).astype(np.float64)
        support, predicted = cm.sum(axis=1), cm.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(support > 0, tp / support, 0.0)
            precision = np.where(predicted > 0, tp / predicted, 0.0)
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
        ece, curve = reliability(self.calibration)
        binary = c == 2
        present = support > 0
        aucs = [histogram_auc(self.histogram[k, 1], self.histogram[k, 0]) for k in range(c)]
        if binary:
            auc = aucs[1] if present.all() else float("nan")
        else:
            auc = float(np.mean(aucs)) if present.all() else float("nan")
        return {
            "metrics": {
                "n_samples": n,
                "accuracy": float(tp.sum() / n),
                "balanced_accuracy": float(np.mean(recall[present])),
                "f1": float(f1[1] if binary else f1.mean()),
                "f1_average": "binary" if binary else "macro",
                "roc_auc": auc,
                "roc_auc_method": f"histogram of {AUC_BINS} score bins",
                "log_loss": self.log_loss_sum / n,
                "brier": self.brier_sum / n,
                "ece": ece,
            },
            "per_class": [
                {
                    "class": k,
                    "precision": float(precision[k]),
                    "recall": float(recall[k]),
                    "f1": float(f1[k]),
                    "support": int(support[k]),
                }
                for k in range(c)
            ],
            "confusion_matrix": cm,
            "reliability": curve,
        }


def histogram_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC from score histograms of positives and negatives on the same bins: the
    chance a positive outscores a negative, a tie within one bin counting one half."""
    n_pos, n_neg = positive.sum(), negative.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    below = np.cumsum(negative) - negative
    wins = positive.astype(np.float64) @ (below + 0.5 * negative)
    return float(wins / (float(n_pos) * float(n_neg)))


def _run_classifier(target: Target, options: OverviewConfig) -> OverviewResult:
    tally = ClassifierTally(options.n_bins, options.exact_rows)
    for batch, proba in map_batches(target, proba_kernel, desc="overview"):
        tally.add(proba, batch.labels)
    result = OverviewResult()
    names = target.class_names or [str(c) for c in range(tally.n_classes)]
    if tally.exact and not target.streaming and tally.n <= options.max_saved_rows:
        proba = tally.proba()
        result.arrays["predicted"] = proba.argmax(axis=1).astype(np.int64)
        result.arrays["proba"] = proba.astype(np.float32)
    result.tables["prediction_counts"] = [
        {"class": n, "predicted": int(c)} for n, c in zip(names, tally.predicted, strict=True)
    ]
    if target.labels is None:
        result.metrics["n_samples"] = target.n_samples
        return result
    summary = tally.finish()
    result.metrics.update(summary["metrics"])
    result.metrics["n_bins"] = options.n_bins
    m = result.metrics
    if "accuracy" in m and m.get("n_samples"):
        n = int(m["n_samples"])
        ci = binomtest(round(m["accuracy"] * n), n).proportion_ci(options.confidence, "wilson")
        m["accuracy_low"], m["accuracy_high"] = float(ci.low), float(ci.high)
    for row in summary["per_class"]:
        row["class"] = names[row["class"]]
    absent = [r["class"] for r in summary["per_class"] if not r.get("support")]
    if absent:
        result.notes.append(
            f"No label of class {', '.join(map(repr, absent))} among the {m.get('n_samples')} "
            "samples: its recall and the ROC AUC are undefined (reported as missing), and "
            "accuracy says nothing about recognising it."
        )
    result.tables["per_class"] = summary["per_class"]
    result.arrays["confusion_matrix"] = summary["confusion_matrix"]
    for key, value in summary["reliability"].items():
        result.arrays[f"reliability_{key}"] = value
    return result


def _run_autoencoder(target: Target, options: OverviewConfig) -> OverviewResult:
    result = OverviewResult()
    errors = target.reconstruction_error()
    threshold = target.anomaly_threshold
    flags = errors > threshold
    quantiles = np.quantile(errors, [0.05, 0.25, 0.5, 0.75, 0.95])
    result.metrics.update(
        {
            "n_samples": len(errors),
            "mean_error": float(errors.mean()),
            "median_error": float(quantiles[2]),
            "anomaly_threshold": threshold,
            "flag_rate": float(flags.mean()),
        }
    )
    counts, edges = np.histogram(errors, bins=50)
    result.arrays.update(
        {
            "errors": errors.astype(np.float32),
            "worst_ids": np.argsort(-errors)[:N_WORST].astype(np.int64),
            "error_histogram_counts": counts,
            "error_histogram_edges": edges,
            "error_quantiles": quantiles,
        }
    )
    if target.labels is not None and len(np.unique(target.labels)) == 2:
        result.metrics["anomaly_roc_auc"] = float(skm.roc_auc_score(target.labels, errors))
    if target.reference_data is not None:
        reference = target.reconstruction_error(target.reference_data)
        result.metrics["reference_mean_error"] = float(reference.mean())
        result.metrics["reference_flag_rate"] = float((reference > threshold).mean())
        result.metrics["error_ratio"] = float(errors.mean() / max(reference.mean(), 1e-12))
    return result


def _run_generator(target: Target, options: OverviewConfig, seed: int) -> OverviewResult:
    result = OverviewResult()
    samples = target.generate(options.n_generated, seed=target.sample_seed)
    flat = samples.reshape(len(samples), -1).astype(np.float64)
    lo, hi = target.input_range
    out_of_range = float(np.mean((flat < lo - 1e-6) | (flat > hi + 1e-6)))
    result.metrics.update(
        {
            "n_generated": len(samples),
            "sample_mean": float(flat.mean()),
            "sample_std": float(flat.std()),
            "out_of_range_fraction": out_of_range,
            "input_range": [float(lo), float(hi)],
            "diversity": float(flat.std(axis=0).mean()),
        }
    )
    result.arrays["samples"] = samples[:64].astype(np.float32)
    if target.discriminator is not None:
        result.metrics["discriminator_fake_mean"] = float(target.score(samples).mean())
    if target.reference_data is not None:
        real = (
            target.reference_data.numpy().reshape(len(target.reference_data), -1).astype(np.float64)
        )
        scale = max(real.std(), 1e-12)
        mean_gap = abs(flat.mean() - real.mean()) / scale
        std_gap = abs(flat.std() - real.std()) / scale
        per_feature_gap = float(np.abs(flat.mean(axis=0) - real.mean(axis=0)).mean() / scale)
        result.metrics.update(
            {
                "real_mean": float(real.mean()),
                "real_std": float(real.std()),
                "mean_gap": float(mean_gap),
                "std_gap": float(std_gap),
                "per_feature_mean_gap": per_feature_gap,
                "real_diversity": float(real.std(axis=0).mean()),
            }
        )
        if target.discriminator is not None:
            result.metrics["discriminator_real_mean"] = float(
                target.score(target.reference_data).mean()
            )
    return result


def _stream_autoencoder(target: Target, options: OverviewConfig, seed: int) -> OverviewResult:
    """An autoencoder on streamed data: the error distribution from the sample, the mean
    error and the flag rate over every row (batch by batch, on the audit's engine)."""
    sample = target.sample_target()
    result = _run_autoencoder(sample, options)
    threshold = sample.anomaly_threshold
    n, total, flagged = 0, 0.0, 0
    for _, errors in map_batches(target, error_kernel, desc="overview"):
        n, total, flagged = (
            n + len(errors),
            total + float(errors.sum()),
            flagged + int((errors > threshold).sum()),
        )
    result.metrics.update(n_samples=n, mean_error=total / n, flag_rate=flagged / n)
    if "reference_mean_error" in result.metrics:
        result.metrics["error_ratio"] = (
            total / n / max(result.metrics["reference_mean_error"], 1e-12)
        )
    result.notes.insert(
        0,
        f"The data streams ({n:,} rows): mean error and flag rate cover every row; the "
        f"histogram, quantiles and findings' examples come from a uniform random sample of "
        f"{sample.n_samples:,} rows.",
    )
    return result


def run_overview(target: Target, options: OverviewConfig, seed: int) -> OverviewResult:
    """Measure the overview of ``target`` (see :mod:`deepaudit.audit.overview`)."""
    if target.kind == "classifier":
        return _run_classifier(target, options)
    if target.streaming and target.kind == "autoencoder":
        return _stream_autoencoder(target, options, seed)
    if target.kind == "autoencoder":
        return _run_autoencoder(target, options)
    return _run_generator(target, options, seed)
