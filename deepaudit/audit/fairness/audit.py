"""The ``fairness`` family's entry point: validate, run each part, assemble the result."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator

import numpy as np

from deepaudit.audit.engine import error_kernel, map_batches, proba_kernel
from deepaudit.audit.fairness import classifier, counterfactual, generative, identity, mitigation
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.findings import (
    FAMILY,
    decide_rows,
    disparity_findings,
    small_group_finding,
    worst,
)
from deepaudit.audit.fairness.groups import (
    codes_array,
    codes_table,
    groupings_from_levels,
    make_groupings,
)
from deepaudit.audit.fairness.inputs import OVERALL
from deepaudit.audit.fairness.metrics import TOP_LABEL, build_cells
from deepaudit.audit.fairness.stats import decide
from deepaudit.audit.target import Target
from deepaudit.errors import parameter_error
from deepaudit.results import Evidence, FamilyResult, Finding

_OWNER = "FairnessConfig"

# Independent random streams, so that switching one part off leaves the others' numbers.
_GROUPS, _COUNTERFACTUAL, _IDENTITY, _COVERAGE, _SAVED = range(5)


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
    if not target.metadata.get("label_model"):
        return (
            "class coverage needs a zoo classifier to label generated samples "
            "(target.metadata['label_model'])"
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
    if target.kind == "generator":
        from deepaudit.models import list_models

        name = generative.label_model_name(target, options)
        if name not in list_models():
            raise parameter_error(
                "label_model", _OWNER, "the name of a zoo classifier (list_models())", name
            )
    return attributes


def run_fairness(target: Target, options: FairnessConfig, seed: int) -> FamilyResult:
    """Audit who the model fails: group and intersectional metrics with intervals,
    counterfactual flips, mitigation (classifiers); flag rates by group (autoencoders);
    class coverage (generators)."""
    attributes = validate(target, options)
    result = FamilyResult(FAMILY)
    result.metrics["confidence"] = options.confidence
    result.metrics["n_bootstrap"] = options.n_bootstrap
    if target.kind == "classifier":
        _run_classifier(target, attributes, options, seed, result)
    elif target.kind == "autoencoder":
        _run_autoencoder(target, attributes, options, seed, result)
    else:
        _run_generator(target, options, seed, result)
    return result


def _rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part])


@contextlib.contextmanager
def _timed(result: FamilyResult, target: Target, method: str) -> Iterator[None]:
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
        rng = _rng(seed, _GROUPS)
        with _timed(result, target, "group metrics and bootstrap"):
            for grouping, grouping_cells in zip(groupings, cells, strict=True):
                classifier.audit_cells(
                    grouping_cells, grouping, shown, options, rng, tables, bootstrap
                )
        decide_rows(tables.test_rows, options)
        result.tables["group_metrics"] = tables.group_rows
        result.tables["disparities"] = tables.disparity_rows
        result.tables["disparity_tests"] = tables.test_rows
        result.tables["group_codes"] = codes_table(groupings)
        result.arrays["scores"], result.arrays["labels"], result.arrays["group_codes"] = saved
        result.metrics.update(
            threshold=options.threshold,
            n_bins=options.n_bins,
            class_names=list(class_names),
            groupings=[g.name for g in groupings],
            n_tests=len(tables.test_rows),
            n_failed=sum(r["severity"] == "fail" for r in tables.test_rows),
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
        small = small_group_finding(tables.small_groups, options, "group_metrics")
        result.findings.extend(
            disparity_findings(tables.test_rows, options, "disparity_tests", show_class=not binary)
        )
        if small is not None:
            result.findings.append(small)
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
            rng = _rng(seed, _SAVED)
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
        row["higher_is_worse"] = True
    decide_rows(
        tables.summary_rows,
        options,
        value_key="changed_share",
        low_key="changed_share_low",
        high_key="changed_share_high",
    )
    result.tables["counterfactual_summary"] = tables.summary_rows
    what = "anomaly flags" if target.kind == "autoencoder" else "predictions"
    how = "Recolouring" if target.modality == "image" else "Flipping"
    for row in tables.summary_rows:
        low = row.get("changed_share_low", math.nan)
        high = row.get("changed_share_high", math.nan)
        interval = (
            f"{options.confidence:.0%} interval [{low:.1%}, {high:.1%}]; "
            if math.isfinite(low)
            else ""
        )
        result.findings.append(
            Finding(
                FAMILY,
                "counterfactual",
                row["severity"],
                f"{how} {row['attribute']!r} to another group changes "
                f"{row['changed_share']:.1%} of {what} ({interval}limit "
                f"{options.max_flip_rate:.0%}; mean score shift {row['mean_shift']:+.4f} over "
                f"{row['n']} samples).",
                Evidence(
                    metric="changed_share",
                    value=row["changed_share"],
                    interval=None if not math.isfinite(low) else (low, high),
                    threshold=options.max_flip_rate,
                    group=row["attribute"],
                    table="counterfactual",
                ),
            )
        )


def _identity(target, options, seed, result) -> None:
    tables = identity.IdentityTables()
    rng = _rng(seed, _IDENTITY)
    identity.template_swaps(target, options, rng, tables)
    identity.data_swaps(target, options, rng, tables)
    result.notes.extend(tables.notes)
    result.tables["identity_pairs"] = tables.pair_rows
    result.tables["identity_groups"] = tables.group_rows
    result.tables["identity_data_swaps"] = tables.data_rows
    rows = tables.pair_rows
    if rows and options.n_bootstrap > 0:
        for row in rows:
            row["abs_mean_shift"] = abs(row["mean_shift"])
        decide_rows(
            rows,
            options,
            value_key="abs_mean_shift",
            low_key="abs_low",
            high_key="abs_high",
            higher_is_worse=True,
        )
        for attribute in dict.fromkeys(r["attribute"] for r in rows):
            mine = [r for r in rows if r["attribute"] == attribute]
            top = worst(mine, value_key="abs_mean_shift", higher_is_worse=True)
            fails = sum(r["severity"] == "fail" for r in mine)
            result.findings.append(
                Finding(
                    FAMILY,
                    f"identity_swap_{attribute}",
                    top["severity"],
                    f"Swapping {attribute} terms in template sentences moves the score by up to "
                    f"{top['mean_shift']:+.3f} on average ({top['term_a']} -> {top['term_b']}; "
                    f"{options.confidence:.0%} interval [{top['mean_shift_low']:+.3f}, "
                    f"{top['mean_shift_high']:+.3f}], limit ±{options.max_score_shift:g}; "
                    f"{top['flip_rate']:.0%} of its {top['n']} sentence pairs change "
                    f"prediction); {fails} of {len(mine)} term pairs fail.",
                    Evidence(
                        metric="mean_score_shift",
                        value=top["mean_shift"],
                        interval=(top["mean_shift_low"], top["mean_shift_high"]),
                        threshold=options.max_score_shift,
                        group=f"{top['term_a']} -> {top['term_b']}",
                        table="identity_pairs",
                    ),
                )
            )
    for row in tables.data_rows:
        if row["term_a"] != "(all pairs)" or "flip_rate_low" not in row:
            continue
        row["threshold"] = options.max_flip_rate
        severity = _decide_single(
            row["flip_rate"], row["flip_rate_low"], row["flip_rate_high"], options
        )
        result.findings.append(
            Finding(
                FAMILY,
                f"identity_data_{row['attribute']}",
                severity,
                f"In {row['n']} evaluation samples holding a {row['attribute']} term, swapping "
                f"it (she/he, woman/man, ...) changes {row['flip_rate']:.1%} of predictions "
                f"({options.confidence:.0%} interval [{row['flip_rate_low']:.1%}, "
                f"{row['flip_rate_high']:.1%}], limit {options.max_flip_rate:.0%}); mean score "
                f"shift {row['mean_shift']:+.4f}.",
                Evidence(
                    metric="flip_rate",
                    value=row["flip_rate"],
                    interval=(row["flip_rate_low"], row["flip_rate_high"]),
                    threshold=options.max_flip_rate,
                    group=row["attribute"],
                    table="identity_data_swaps",
                ),
            )
        )
    result.metrics["identity_pairs_compared"] = len(rows)


def _decide_single(value: float, low: float, high: float, options: FairnessConfig) -> str:
    """A single test (no correction): fail when the interval lies beyond the limit."""
    return decide(
        value,
        low,
        high,
        options.max_flip_rate,
        higher_is_worse=True,
        p_adjusted=0.0 if low > options.max_flip_rate else 1.0,
        confidence=options.confidence,
    )


# -- autoencoders -----------------------------------------------------------------------


def _run_autoencoder(target, attributes, options, seed, result) -> None:
    sample = target.sample_target()
    with _timed(result, target, "reconstruction errors"):
        threshold = float(sample.anomaly_threshold)
        groupings, cells, errors, codes = _anomaly_cells(target, attributes, threshold, options)
    tables = generative.AnomalyTables()
    rng = _rng(seed, _GROUPS)
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
    decide_rows(tables.test_rows, options)
    result.tables["anomaly_groups"] = tables.group_rows
    result.tables["disparity_tests"] = tables.test_rows
    result.tables["group_codes"] = codes_table(groupings)
    result.arrays["errors"] = errors
    result.arrays["group_codes"] = codes
    overall = next(r for r in tables.group_rows if r["group"] == OVERALL)
    result.metrics.update(
        n_samples=target.n_samples,
        anomaly_threshold=threshold,
        flag_rate=overall["flag_rate"],
        groupings=[g.name for g in groupings],
        n_tests=len(tables.test_rows),
        n_failed=sum(r["severity"] == "fail" for r in tables.test_rows),
        correction=options.correction,
        bootstrap="poisson" if target.streaming else "multinomial",
        live_rows=len(errors),
    )
    result.findings.extend(disparity_findings(tables.test_rows, options, "disparity_tests"))
    small = small_group_finding(tables.small_groups, options, "anomaly_groups")
    if small is not None:
        result.findings.append(small)
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
        out = generative.class_coverage(target, options, _rng(seed, _COVERAGE), seed)
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
    for row in rows:
        row["higher_is_worse"] = False
    decide_rows(
        rows,
        options,
        value_key="share_ratio",
        low_key="share_ratio_low",
        high_key="share_ratio_high",
    )
    under = [r for r in rows if r["severity"] == "fail"]
    top = worst(rows, value_key="share_ratio")
    result.metrics["under_represented"] = [r["class"] for r in under]
    named = ", ".join(repr(r["class"]) for r in under)
    low, high = top["share_ratio_low"], top["share_ratio_high"]
    message = (
        f"Under-represented classes: {named}. "
        if under
        else "No class is clearly under-represented. "
    ) + (
        f"Worst: class {top['class']!r} at {top['generated_share']:.1%} of {out['n_generated']} "
        f"generated samples vs {top['reference_share']:.1%} of the reference data (ratio "
        f"{top['share_ratio']:.2f}, {options.confidence:.0%} interval [{low:.2f}, {high:.2f}], "
        f"limit {options.min_share_ratio:g}); classes labelled by {out['label_model']!r}; "
        f"chi-square {out['chi2']:.1f} on {out['chi2_dof']} degrees of freedom, "
        f"p = {out['chi2_p_value']:.2g}."
    )
    result.findings.append(
        Finding(
            FAMILY,
            "class_coverage",
            top["severity"],
            message,
            Evidence(
                metric="share_ratio",
                value=top["share_ratio"],
                interval=(low, high),
                threshold=options.min_share_ratio,
                group=str(top["class"]),
                table="class_shares",
            ),
        )
    )
