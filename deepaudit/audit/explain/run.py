"""``run_explain``: the explain family's measuring.

It draws the samples to explain, runs each configured method (captum, shap, lime)
within the evaluation budget, scores every method's trustworthiness beside its maps
(faithfulness, sanity, completeness, stability, agreement, per-group faithfulness) and
adds what the modality allows: global importance and the share on sensitive features
(tabular), the share on colour (RGB images), latent sensitivity (generators).
"""

from __future__ import annotations

import time

import numpy as np

from deepaudit.audit.bars import nested_bar
from deepaudit.audit.device import limited_threads
from deepaudit.audit.explain import colour, scoring, store, tabular
from deepaudit.audit.explain.budget import fit_to_budget, fit_to_compute
from deepaudit.audit.explain.case import (
    Case,
    draw_samples,
    find_feature_map_layer,
    prepare_case,
)
from deepaudit.audit.explain.config import OWNER, ExplainConfig
from deepaudit.audit.explain.every_row import every_row_results
from deepaudit.audit.explain.latent import latent_results
from deepaudit.audit.explain.methods import applicable_methods, default_methods
from deepaudit.audit.explain.regions import check_regions, region_rows
from deepaudit.audit.explain.registry import get_method
from deepaudit.audit.explain.result import ExplainResult
from deepaudit.audit.target import Target
from deepaudit.errors import described, parameter_error


def resolve_methods(case: Case, config: ExplainConfig) -> list[str]:
    """The methods to run: the modality's defaults, every applicable one, or those named
    (each checked against the case; a method that cannot apply is a ValidationError)."""
    if config.methods is None:
        return default_methods(case)
    if config.methods == "all":
        return applicable_methods(case)
    names = list(config.methods)
    problems = [
        f"{n} ({get_method(n).why_not(case)})" for n in names if get_method(n).why_not(case)
    ]
    if problems:
        allowed = ", ".join(repr(n) for n in applicable_methods(case))
        raise parameter_error(
            "methods",
            OWNER,
            f"methods that apply to this {case.target.kind} target with "
            f"{case.target.modality} data ({allowed})",
            described("; ".join(problems)),
        )
    return names


def check_target_settings(target: Target, config: ExplainConfig) -> None:
    """Refuse settings that do not fit ``target`` (before any family runs)."""
    if config.regions is not None:
        check_regions(target, config.regions)
    if not (target.kind == "generator" and target.reference_data is None):
        case = prepare_case(target, config.layer, 0)  # the layer's name, no model call
        if config.methods is not None and config.methods != "all":
            resolve_methods(case, config)
    if config.sensitive_features is None:
        return
    if target.modality != "tabular":
        raise parameter_error(
            "sensitive_features",
            OWNER,
            "None for non-tabular data",
            list(config.sensitive_features),
        )
    unknown = [f for f in config.sensitive_features if f not in target.feature_groups]
    if unknown:
        raise parameter_error(
            "sensitive_features",
            OWNER,
            "names of logical features of the target (" + ", ".join(target.feature_groups) + ")",
            unknown,
        )


def run_explain(target: Target, options: ExplainConfig, seed: int) -> ExplainResult:
    """The explain family's entry point (see the module docstring).

    The methods explain samples of the target's rows in memory (of a streaming
    target: of its sample); with ``every_row``, Integrated Gradients also runs over
    every row, batch by batch on the audit's engine.
    """
    check_target_settings(target, options)
    sample = target.sample_target()
    with limited_threads(options.n_threads):
        result, case = _run_explain(sample, options, seed)
    if sample is not target:
        result.notes.insert(
            0,
            f"The data streams ({target.n_samples:,} rows): samples to explain were drawn "
            f"from a uniform random sample of {sample.n_samples:,} rows.",
        )
    if getattr(target, "raw_columns", None) is not None:
        result.notes.insert(0, target.raw_columns.note())
    if options.every_row and case is not None:
        started, before = time.perf_counter(), target.n_evaluations
        every_row_results(result, target, case, options, seed)
        result.metrics["every_row_seconds"] = time.perf_counter() - started
        result.metrics["every_row_evaluations"] = target.n_evaluations - before
    elif options.every_row:
        result.notes.append("every_row was skipped: a generator has no evaluation rows.")
    return result


def _run_explain(
    target: Target, options: ExplainConfig, seed: int
) -> tuple[ExplainResult, Case | None]:
    config = options
    result = ExplainResult()
    if target.kind == "generator" and target.discriminator is None:
        result.notes.append(
            "This generator has no discriminator: only latent sensitivity is measured."
        )
        latent_results(result, target, config, seed)
        return result, None
    case = prepare_case(target, config.layer, seed)
    names = resolve_methods(case, config)  # every check before the first model call
    layer_found = "grad_cam" in names and find_feature_map_layer(case, config.layer)
    config, compute_note = fit_to_compute(case, config)
    if compute_note is not None:
        result.notes.append(compute_note)
    if layer_found:
        result.notes.append(
            f"Grad-CAM hooked `{case.layer}`, the last layer whose output is a feature map "
            "(found by a forward pass; ExplainConfig(layer=...) names another)."
        )
    draw_samples(case, config.n_samples, config.n_background)

    runs: dict[str, dict] = {}
    budget_rows = []
    bar = nested_bar(names, show=config.progress, desc="explain", unit="method")
    for name in bar:
        bar.set_postfix_str(name)
        spec = get_method(name)
        method_config, cut = fit_to_budget(spec, case, config)
        if cut is not None:
            lowered = config.max_evaluations < options.max_evaluations
            cut["raise"] = "max_gflop" if lowered else "max_evaluations"
            budget_rows.append(cut)
        if method_config is None:
            continue
        runs[name] = _run_method(case, spec, method_config, seed)
        runs[name]["estimate"] = int(spec.estimate(case, method_config, case.n))
    if not runs:
        result.notes.append("No attribution method fit the evaluation budget.")
        result.tables["budget"] = budget_rows
        return result, case

    quality_rows, stage_rows = scoring.quality_table(case, runs, config, seed)
    result.tables["quality"] = quality_rows
    result.tables["randomisation"] = stage_rows
    result.tables["agreement"] = scoring.agreement_table(case, runs, config)
    result.tables["group_quality"] = scoring.group_quality_table(case, runs)
    result.tables["samples"] = store.samples_table(case)
    result.tables["cost"] = [
        {
            "method": r["method"],
            "seconds": r["seconds"],
            "model_evaluations": r["evaluations"],
            "estimated_evaluations": runs[r["method"]]["estimate"],
            "check_seconds": r["check_seconds"],
            "check_evaluations": r["check_evaluations"],
        }
        for r in quality_rows
        if r["method"] in runs
    ]
    if budget_rows:
        result.tables["budget"] = budget_rows
    store.store_arrays(result, case, runs)

    if case.space.modality == "tabular":
        tabular.tabular_results(result, case, runs, config, seed)
    if case.space.modality == "text":
        result.tables["token_attributions"] = store.token_rows(case, runs)
    if config.regions:
        result.tables["regions"] = region_rows(
            case, runs, config.regions, config.confidence, case.target.sample_seed
        )
    if colour.applies(case):
        colour.colour_results(result, case, config)
    if target.kind == "generator":
        latent_results(result, target, config, seed)

    measured = [r for r in quality_rows if r["method"] != "random"]
    best = max(measured, key=lambda r: np.nan_to_num(r["faithfulness"], nan=-np.inf))
    result.metrics.update(
        {
            "n_explained": case.n,
            "n_methods": len(runs),
            "methods": ", ".join(runs),
            "best_method": best["method"],
            "best_faithfulness": best["faithfulness"],
            "random_faithfulness": quality_rows[-1]["faithfulness"],
            "sanity_failures": sum(r["sanity"] == "fail" for r in measured),
        }
    )
    if "integrated_gradients" in runs:
        row = next(r for r in quality_rows if r["method"] == "integrated_gradients")
        result.metrics["ig_completeness_gap"] = row["completeness_gap"]
        result.metrics["ig_steps"] = row["steps"]
    if case.stratified_by is not None:
        result.metrics["stratified_by"] = case.stratified_by
    return result, None if target.kind == "generator" else case


# -- one method ------------------------------------------------------------------------


def _run_method(case: Case, spec, config: ExplainConfig, seed: int) -> dict:
    before = case.target.n_evaluations
    started = time.perf_counter()
    attribution = spec.compute(case, case.subject, case.inputs, case.classes, config, seed)
    seconds = time.perf_counter() - started
    scores = case.space.scores(attribution.values)
    if spec.gradient and case.blind.any():
        scores[:, case.blind] = np.nan  # gradients do not reach integer-coded categories
    if attribution.steps is not None:  # the checks rerun it with the steps it needed
        config = config.replace(n_steps=attribution.steps, max_steps=attribution.steps)
    return {
        "spec": spec,
        "config": config,
        "attribution": attribution,
        "scores": scores,
        "seconds": seconds,
        "evaluations": case.target.n_evaluations - before,
    }
