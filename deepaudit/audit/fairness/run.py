"""The fairness family's measuring: group metrics and their tests, counterfactual
flips, identity-term swaps, mitigation and class coverage, assembled into its result.

Test rows get their verdicts from :func:`.grade.decide_tests` (the function grading
uses), so the saved tables agree with the findings; the findings themselves are made by
:func:`.grade.grade_fairness` from the result.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np

from deepaudit.audit.engine import error_kernel, map_batches, proba_kernel
from deepaudit.audit.fairness import classifier, counterfactual, generative, identity, mitigation
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.grade import decide_tests
from deepaudit.audit.fairness.groups import (
    codes_array,
    codes_table,
    groupings_from_levels,
    make_groupings,
)
from deepaudit.audit.fairness.inputs import OVERALL
from deepaudit.audit.fairness.live import GROUP_STREAM
from deepaudit.audit.fairness.metrics import TOP_LABEL, build_cells
from deepaudit.audit.fairness.result import FairnessResult
from deepaudit.audit.target import Target
from deepaudit.errors import parameter_error

_OWNER = "FairnessConfig"

# Independent random streams, so that switching one part off leaves the others' numbers.
# The group tables' stream is shared with the dashboard, which redraws its resamples.
_GROUPS, (_COUNTERFACTUAL, _IDENTITY, _COVERAGE, _SAVED) = GROUP_STREAM, range(1, 5)


def applies_to(target: Target) -> str | None:
    """None when the fairness family can run on ``target``, else why not."""
    if target.kind == "classifier":
        if target.modality == "text":
            return None
        if target.sensitive is None:
            return (
                "it needs sensitive attributes (Target(sensitive=...)); text models are "
                "audited with identity-term swaps instead"
            )
        if target.labels is None:
            return "group metrics need the true labels (Target(labels=...))"
        return None
    if target.kind == "autoencoder":
        if target.sensitive is None:
            return "flag rates by group need sensitive attributes (Target(sensitive=...))"
        return None
    if target.label_model is None:
        return (
            "class coverage needs a classifier to label generated samples (Target(label_model=...))"
        )
    if target.reference_data is None:
        return "class coverage needs real samples to compare with (Target(reference_data=...))"
    return None


def _attributes(target: Target, options: FairnessConfig) -> list[str]:
    known = target.sensitive_names
    chosen = list(options.sensitive_features) if options.sensitive_features else known
    missing = [a for a in chosen if a not in known]
    if missing:
        listed = ", ".join(repr(a) for a in known) or "none"
        raise parameter_error(
            "sensitive_features",
            _OWNER,
            f"names of the target's sensitive attributes ({listed})",
            missing,
        )
    return chosen


def validate(target: Target, options: FairnessConfig) -> list[str]:
    """Check the options against the target before any work; the audited attributes."""
    if not isinstance(options, FairnessConfig):
        raise parameter_error("options", "run_fairness", "a FairnessConfig", options)
    attributes = _attributes(target, options) if target.sensitive is not None else []
    if options.sensitive_features and target.sensitive is None:
        _attributes(target, options)
    for attribute, proxies in options.proxies.items():
        if attribute not in attributes:
            raise parameter_error(
                "proxies", _OWNER, "keys naming audited sensitive attributes", attribute
            )
        names = set(target.feature_names or []) | set(target.feature_groups)
        unknown = [p for p in proxies if p not in names]
        if unknown:
            raise parameter_error(
                "proxies", _OWNER, "proxies naming the target's features", unknown
            )
    if options.mitigation_attribute is not None and options.mitigation_attribute not in attributes:
        raise parameter_error(
            "mitigation_attribute",
            _OWNER,
            "one of the audited attributes (" + ", ".join(map(repr, attributes)) + ")",
            options.mitigation_attribute,
        )
    return attributes


def run_fairness(target: Target, options: FairnessConfig, seed: int) -> FairnessResult:
    """Measure who the model fails: group and intersectional metrics with intervals,
    counterfactual flips, mitigation (classifiers); flag rates by group (autoencoders);
    class coverage (generators)."""
    attributes = validate(target, options)
    result = FairnessResult()
    result.metrics["confidence"] = options.confidence
    result.metrics["n_bootstrap"] = options.n_bootstrap
    result.metrics["target_kind"] = target.kind
    result.metrics["modality"] = target.modality
    if target.kind == "classifier":
        _run_classifier(target, attributes, options, seed, result)
    elif target.kind == "autoencoder":
        _run_autoencoder(target, attributes, options, seed, result)
    else:
        _run_generator(target, options, seed, result)
    return result


def _rng(seed: int, part: int) -> np.random.Generator:
    """A generator per use. The bootstrap resamples of every interval are drawn with the
    target's sample seed (the same data gives the same intervals, whatever the audit's
    seed); counterfactual donors with the audit's seed."""
    return np.random.default_rng([seed, part])


@contextlib.contextmanager
def _timed(result: FairnessResult, target: Target, method: str) -> Iterator[None]:
    """Record the seconds and model evaluations of one part in the ``cost`` table."""
    started, evaluations = time.perf_counter(), target.n_evaluations
    yield
    result.tables.setdefault("cost", []).append(
        {
            "method": method,
            "seconds": time.perf_counter() - started,
            "model_evaluations": target.n_evaluations - evaluations,
        }
    )


# -- classifiers ------------------------------------------------------------------------


def _run_classifier(
    target: Target, attributes: list[str], options: FairnessConfig, seed: int, result
) -> None:
    sample = target.sample_target()
    n_classes = target.n_classes
    binary = n_classes == 2
    class_names = target.class_names or [str(k) for k in range(n_classes)]
    shown = [class_names[1]] if binary else [*class_names, TOP_LABEL]
    result.metrics.update(n_samples=target.n_samples, n_classes=n_classes)
    bootstrap = options.bootstrap
    if bootstrap == "auto":
        bootstrap = "poisson" if target.streaming else "multinomial"
    if attributes and target.labels is not None:
        with _timed(result, target, "scores and cells"):
            groupings, cells, saved = _group_cells(target, attributes, binary, options, seed)
        tables = classifier.GroupTables()
        rng = _rng(target.sample_seed, _GROUPS)
        with _timed(result, target, "group metrics and bootstrap"):
            for grouping, grouping_cells in zip(groupings, cells, strict=True):
                classifier.audit_cells(
                    grouping_cells, grouping, shown, options, rng, tables, bootstrap
                )
        tests = classifier.finish_tests(tables, options)
        result.tables["group_metrics"] = tables.group_rows
        result.tables["disparities"] = tables.disparity_rows
        result.tables["disparity_tests"] = tests
        result.tables["group_codes"] = codes_table(groupings)
        result.arrays["scores"], result.arrays["labels"], result.arrays["group_codes"] = saved
        result.metrics.update(
            threshold=options.threshold,
            n_bins=options.n_bins,
            class_names=list(class_names),
            groupings=[g.name for g in groupings],
            n_tests=len(tests),
            n_failed=sum(r["severity"] == "fail" for r in tests),
            correction=options.correction,
            bootstrap=bootstrap,
            live_rows=len(saved[1]),
        )
        if len(saved[1]) < target.n_samples:
            result.notes.append(
                f"The tables cover all {target.n_samples:,} rows; the threshold slider "
                f"recomputes them on a seeded random sample of {len(saved[1]):,} rows "
                "(FairnessConfig(max_saved_rows=...))."
            )
        if options.mitigation and binary:
            with _timed(result, target, "mitigation"):
                # The saved scores are the sample's own rows, in order, unless some were cut.
                uncut = len(saved[0]) == sample.n_samples
                scores = saved[0] if uncut else sample.predict_proba()[:, 1]
                _mitigation(sample, attributes, scores, options, seed, result)
        elif options.mitigation:
            result.notes.append(
                "Mitigation was skipped: fairlearn's ThresholdOptimizer post-processes "
                "binary classifiers only."
            )
    if target.streaming and (options.mitigation or options.counterfactual):
        result.notes.append(
            f"The data streams: mitigation and counterfactual checks used a uniform random "
            f"sample of {sample.n_samples:,} of its {target.n_samples:,} rows."
        )
    if options.counterfactual and attributes and target.modality in ("tabular", "image"):
        with _timed(result, target, "counterfactual flips"):
            _counterfactual(sample, attributes, options, seed, result)
    if options.counterfactual and target.modality == "text":
        with _timed(result, target, "identity-term swaps"):
            _identity(sample, options, seed, result)


def _group_cells(target: Target, attributes, binary: bool, options: FairnessConfig, seed: int):
    """Every grouping, its cell table over all rows, and the (scores, labels, codes) the
    bundle keeps for the threshold slider (all rows, or a seeded sample of them).

    In memory, the scores of all rows are computed and binned at once; a streaming
    target's rows are scored batch by batch (by the active engine) and each batch's
    cells are added up, so memory holds cells, never rows.
    """
    order = options.max_intersection_order
    if not target.streaming:
        proba = target.predict_proba()
        scores = proba[:, 1] if binary else proba
        groupings = make_groupings(target.sensitive, attributes, order, _OWNER)
        cells = [
            build_cells(
                target.labels, scores, g.codes, len(g.names), options.threshold, options.n_bins
            )
            for g in groupings
        ]
        keep = np.arange(target.n_samples)
        if target.n_samples > options.max_saved_rows:
            rng = _rng(target.sample_seed, _SAVED)
            keep = np.sort(rng.choice(target.n_samples, options.max_saved_rows, replace=False))
        saved = (
            np.asarray(scores[keep], dtype=np.float64),
            target.labels[keep].astype(np.int64),
            codes_array(groupings)[keep],
        )
        return groupings, cells, saved
    groupings = groupings_from_levels(target.sensitive_levels(), attributes, order)

    def cells_of(proba, batch, codes, n_groups):
        scores = proba[:, 1] if binary else proba
        labels = batch.labels.astype(np.int64)
        return build_cells(labels, scores, codes, n_groups, options.threshold, options.n_bins)

    cells = _fold_over_rows(target, groupings, proba_kernel, cells_of)
    sample = target.sample_target()
    proba = sample.predict_proba()
    codes = _sample_codes(sample, groupings)
    keep = slice(0, options.max_saved_rows)
    saved = (
        np.asarray((proba[:, 1] if binary else proba)[keep], dtype=np.float64),
        sample.labels[keep].astype(np.int64),
        codes[keep],
    )
    return groupings, cells, saved


def _mitigation(target, attributes, scores, options, seed, result) -> None:
    attribute = options.mitigation_attribute or attributes[0]
    groups = target.sensitive[attribute].astype(str).to_numpy()
    if len(np.unique(groups)) < 2 or len(np.unique(target.labels)) < 2:
        result.notes.append(
            f"Mitigation was skipped: {attribute!r} needs two groups and the labels two classes."
        )
        return
    out = mitigation.mitigate(target.labels, scores, groups, attribute, options, seed)
    left_out = ", ".join(f"{g} ({n} samples)" for g, n in out["left_out"])
    if out["skipped"]:
        result.notes.append(
            f"Mitigation was skipped: fewer than two groups of {attribute!r} have both label "
            f"classes among their fitting samples (left out: {left_out})."
        )
        return
    if left_out:
        result.notes.append(
            f"Mitigation left out {left_out} of {attribute!r}: one label class only among "
            "their fitting samples, so ThresholdOptimizer cannot set them a threshold."
        )
    result.tables["mitigation"] = out["table"]
    result.tables["mitigation_thresholds"] = out["thresholds"]
    result.tables["tradeoff"] = out["curve"]
    before, after = out["table"]
    result.metrics.update(
        mitigation_attribute=attribute,
        mitigation_constraint=options.mitigation_constraint,
        accuracy_before=before["accuracy"],
        accuracy_after=after["accuracy"],
        dp_difference_before=before["demographic_parity_difference"],
        dp_difference_after=after["demographic_parity_difference"],
        eo_difference_before=before["equalized_odds_difference"],
        eo_difference_after=after["equalized_odds_difference"],
    )
    result.notes.append(
        f"ThresholdOptimizer ({options.mitigation_constraint}, by {attribute}) fitted on "
        f"{out['n_fit']} samples and measured on the other {out['n_eval']}: accuracy "
        f"{before['accuracy']:.3f} -> {after['accuracy']:.3f}, demographic parity difference "
        f"{before['demographic_parity_difference']:.3f} -> "
        f"{after['demographic_parity_difference']:.3f}, equalized odds difference "
        f"{before['equalized_odds_difference']:.3f} -> {after['equalized_odds_difference']:.3f}."
    )


def _counterfactual(target, attributes, options, seed, result) -> None:
    tables = counterfactual.CounterfactualTables()
    counterfactual.flip_attributes(target, attributes, options, _rng(seed, _COUNTERFACTUAL), tables)
    result.notes.extend(tables.notes)
    if not tables.summary_rows:
        return
    result.tables["counterfactual"] = tables.rows
    for row in tables.summary_rows:
        row.update(limit="max_flip_rate", higher_is_worse=True)
    result.tables["counterfactual_summary"] = decide_tests(
        tables.summary_rows,
        options,
        value_key="changed_share",
        low_key="changed_share_low",
        high_key="changed_share_high",
    )


def _identity(target, options, seed, result) -> None:
    tables = identity.IdentityTables()
    rng = _rng(target.sample_seed, _IDENTITY)
    identity.template_swaps(target, options, rng, tables)
    identity.data_swaps(target, options, rng, tables)
    result.notes.extend(tables.notes)
    rows = tables.pair_rows
    for row in rows:
        row["abs_mean_shift"] = abs(row["mean_shift"])
        row.update(limit="max_score_shift", higher_is_worse=True)
    if rows and options.n_bootstrap > 0:
        rows = decide_tests(
            rows, options, value_key="abs_mean_shift", low_key="abs_low", high_key="abs_high"
        )
    for row in tables.data_rows:
        if row["term_a"] == "(all pairs)" and "flip_rate_low" in row:
            row["threshold"] = options.max_flip_rate
    result.tables["identity_pairs"] = rows
    result.tables["identity_groups"] = tables.group_rows
    result.tables["identity_data_swaps"] = tables.data_rows
    result.metrics["identity_pairs_compared"] = len(rows)


# -- autoencoders -----------------------------------------------------------------------


def _run_autoencoder(target, attributes, options, seed, result) -> None:
    sample = target.sample_target()
    with _timed(result, target, "reconstruction errors"):
        threshold = float(sample.anomaly_threshold)
        groupings, cells, errors, codes = _anomaly_cells(target, attributes, threshold, options)
    tables = generative.AnomalyTables()
    rng = _rng(target.sample_seed, _GROUPS)
    with _timed(result, target, "group metrics and bootstrap"):
        for grouping, grouping_cells in zip(groupings, cells, strict=True):
            generative.audit_anomaly_grouping(
                None if grouping_cells is not None else errors,
                threshold,
                grouping,
                options,
                rng,
                tables,
                cells=grouping_cells,
            )
    tests = classifier.finish_tests(tables, options)
    result.tables["anomaly_groups"] = tables.group_rows
    result.tables["disparity_tests"] = tests
    result.tables["group_codes"] = codes_table(groupings)
    result.arrays["errors"] = errors
    result.arrays["group_codes"] = codes
    overall = next(r for r in tables.group_rows if r["group"] == OVERALL)
    result.metrics.update(
        n_samples=target.n_samples,
        anomaly_threshold=threshold,
        flag_rate=overall["flag_rate"],
        groupings=[g.name for g in groupings],
        n_tests=len(tests),
        n_failed=sum(r["severity"] == "fail" for r in tests),
        correction=options.correction,
        bootstrap="poisson" if target.streaming else "multinomial",
        live_rows=len(errors),
    )
    if options.counterfactual and target.modality == "tabular":
        with _timed(result, target, "counterfactual flips"):
            _counterfactual(sample, attributes, options, seed, result)
    if sample is not target:
        result.notes.insert(
            0,
            f"The data streams ({target.n_samples:,} rows): flag rates and mean errors by "
            "group cover every row (one-pass Poisson bootstrap); the threshold slider and "
            f"counterfactual flips use a uniform random sample of {sample.n_samples:,} rows.",
        )


def _anomaly_cells(target: Target, attributes, threshold: float, options: FairnessConfig):
    """Groupings, their cells (``None`` each when the rows are in memory), and the
    errors and group codes the bundle keeps (every row, or the stream's sample)."""
    order = options.max_intersection_order
    if not target.streaming:
        errors = target.reconstruction_error().astype(np.float64)
        groupings = make_groupings(target.sensitive, attributes, order, _OWNER)
        return groupings, [None] * len(groupings), errors, codes_array(groupings)
    groupings = groupings_from_levels(target.sensitive_levels(), attributes, order)

    def cells_of(errors, batch, codes, n_groups):
        return generative.AnomalyCells.of(errors.astype(np.float64), codes, n_groups, threshold)

    cells = _fold_over_rows(target, groupings, error_kernel, cells_of)
    sample = target.sample_target()
    errors = sample.reconstruction_error().astype(np.float64)
    return groupings, cells, errors, _sample_codes(sample, groupings)


def _fold_over_rows(target: Target, groupings, kernel, cells_of) -> list:
    """Each grouping's cells over every row of a streaming target: the kernel's output
    on each batch (run by the active engine) made into cells by
    ``cells_of(output, batch, codes, n_groups)``, added up batch after batch."""
    cells: list = [None] * len(groupings)
    for batch, output in map_batches(target, kernel, desc="fairness"):
        for j, grouping in enumerate(groupings):
            part = cells_of(output, batch, grouping.encode(batch.sensitive), len(grouping.names))
            cells[j] = part if cells[j] is None else cells[j] + part
    return cells


def _sample_codes(sample: Target, groupings) -> np.ndarray:
    """The group codes of the sample's rows, one column per grouping (for the slider)."""
    return np.stack([g.encode(sample.sensitive) for g in groupings], axis=1).astype(np.int32)


# -- generators -------------------------------------------------------------------------


def _run_generator(target, options, seed, result) -> None:
    with _timed(result, target, "class coverage"):
        out = generative.class_coverage(target, options, _rng(target.sample_seed, _COVERAGE), seed)
    rows = out["rows"]
    result.tables["class_shares"] = rows
    result.arrays["generated_classes"] = out["generated_classes"]
    result.arrays["samples"] = out["samples"][:40].astype(np.float32)
    result.metrics.update(
        label_model=out["label_model"],
        n_generated=out["n_generated"],
        n_reference=out["n_reference"],
        chi2=out["chi2"],
        chi2_p_value=out["chi2_p_value"],
        chi2_dof=out["chi2_dof"],
    )
    if options.n_bootstrap <= 0:
        return
    rows = decide_tests(
        rows,
        options,
        value_key="share_ratio",
        low_key="share_ratio_low",
        high_key="share_ratio_high",
    )
    result.tables["class_shares"] = rows
    result.metrics["under_represented"] = [r["class"] for r in rows if r["severity"] == "fail"]
