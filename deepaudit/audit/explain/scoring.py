"""The quality table and its companions, assembled from the checks in :mod:`quality`.

One row per method (faithfulness, infidelity, sensitivity, sanity, completeness,
stability, cost) plus a random-order reference row; the per-stage randomisation rows;
pairwise agreement between methods; faithfulness per sensitive group.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from deepaudit.audit.explain import quality
from deepaudit.audit.explain.case import Case
from deepaudit.audit.explain.config import ExplainConfig
from deepaudit.audit.explain.grade import sanity_verdict


def _relative_gap(attribution) -> float:
    if attribution.gap is None:
        return float("nan")
    scale = np.mean(np.abs(attribution.output_difference))
    return float(np.mean(np.abs(attribution.gap)) / scale) if scale > 0 else float("nan")


def _check_samples(case: Case, spec, config: ExplainConfig, method_config, repeats: int) -> int:
    """Samples a check that reruns the method ``repeats`` times may use: at most
    ``n_sanity_samples``, and no more than ``max_check_evaluations`` allow (0: skip it)."""
    per_sample = max(1, spec.estimate(case, method_config, 1)) * max(1, repeats)
    return min(config.n_sanity_samples, case.n, config.max_check_evaluations // per_sample)


def quality_table(
    case: Case, runs: dict, config: ExplainConfig, seed: int
) -> tuple[list[dict], list[dict]]:
    """One quality row per method and the random reference row; the randomisation rows."""
    rows, stages = [], []
    for name, run in runs.items():
        spec, method_config = run["spec"], run["config"]
        before = case.target.n_evaluations
        started = time.perf_counter()
        curves = quality.deletion_insertion(
            case, case.subject, case.inputs, case.classes, run["scores"], config.n_curve_steps
        )
        run["curves"] = curves
        infidelity = (
            quality.nanmean(
                quality.removal_infidelity(
                    case, case.subject, case.inputs, case.classes, run["attribution"].values,
                    config.n_perturbations, seed, config.occlusion_window,
                )
            )
            if config.n_perturbations
            else float("nan")
        )  # fmt: skip
        notes = []
        sensitivity = float("nan")
        if config.n_sensitivity and case.space.modality != "text":
            n = _check_samples(case, spec, config, method_config, config.n_sensitivity + 1)
            if n:
                sensitivity = quality.nanmean(
                    quality.max_sensitivity(
                        case, case.subject, spec, method_config, case.inputs[:n],
                        None if case.classes is None else case.classes[:n], seed,
                    )
                )  # fmt: skip
            else:
                notes.append("sensitivity skipped (over max_check_evaluations)")
        randomisation = float("nan")
        if config.randomisation_stages:
            n = _check_samples(case, spec, config, method_config, config.randomisation_stages)
            if n:
                method_stages = quality.randomisation_test(
                    case, spec, method_config, run["scores"], n, seed
                )
                stages.extend(method_stages)
                if method_stages:
                    randomisation = method_stages[-1]["rank_correlation"]
            else:
                notes.append("randomisation skipped (over max_check_evaluations)")
        stability = float("nan")
        if spec.stochastic:
            n = _check_samples(case, spec, config, method_config, config.n_seeds - 1)
            if n:
                stability = quality.stability_across_seeds(
                    case, spec, method_config, run["scores"], n, seed
                )
            else:
                notes.append("stability skipped (over max_check_evaluations)")
        note = "; ".join(notes)
        run["stability"] = stability
        rows.append(
            {
                "method": name,
                "label": spec.label,
                "library": spec.library,
                "deletion_auc": quality.nanmean(curves["deletion_auc"]),
                "insertion_auc": quality.nanmean(curves["insertion_auc"]),
                "faithfulness": quality.nanmean(curves["insertion_auc"] - curves["deletion_auc"]),
                "infidelity": infidelity,
                "sensitivity": sensitivity,
                "randomisation": randomisation,
                "sanity": sanity_verdict(randomisation, config),
                "completeness_gap": _relative_gap(run["attribution"]),
                "stability": stability,
                "seconds": run["seconds"],
                "evaluations": run["evaluations"],
                "check_seconds": time.perf_counter() - started,
                "check_evaluations": case.target.n_evaluations - before,
                "note": note,
            }
        )
    rows.append(random_row(case, config, seed))
    return rows, stages


def random_row(case: Case, config: ExplainConfig, seed: int) -> dict:
    """The reference every score is read against: a map of random numbers."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(tuple(case.inputs.shape)).astype(np.float32)
    scores = case.space.scores(values)
    curves = quality.deletion_insertion(
        case, case.subject, case.inputs, case.classes, scores, config.n_curve_steps
    )
    infidelity = (
        quality.nanmean(
            quality.removal_infidelity(
                case, case.subject, case.inputs, case.classes, values,
                config.n_perturbations, seed, config.occlusion_window,
            )
        )
        if config.n_perturbations
        else float("nan")
    )  # fmt: skip
    nan = float("nan")
    return {
        "method": "random",
        "label": "Random (reference)",
        "library": "numpy",
        "deletion_auc": quality.nanmean(curves["deletion_auc"]),
        "insertion_auc": quality.nanmean(curves["insertion_auc"]),
        "faithfulness": quality.nanmean(curves["insertion_auc"] - curves["deletion_auc"]),
        "infidelity": infidelity,
        "sensitivity": nan,
        "randomisation": nan,
        "sanity": "n/a",
        "completeness_gap": nan,
        "stability": nan,
        "seconds": 0.0,
        "evaluations": 0,
        "check_seconds": 0.0,
        "check_evaluations": 0,
        "note": "a random feature order, for reference",
    }


def agreement_table(case: Case, runs: dict, config: ExplainConfig) -> list[dict]:
    """Rank correlation and top-k overlap of every pair of methods."""
    valid = case.space.removable(case.inputs)
    rows = []
    for a, b in itertools.combinations(runs, 2):
        sa, sb = runs[a]["scores"], runs[b]["scores"]
        rows.append(
            {
                "method_a": a,
                "method_b": b,
                "rank_correlation": quality.nanmean(quality.rank_agreement(sa, sb, valid)),
                f"top_{config.top_k}_overlap": quality.nanmean(
                    quality.top_k_overlap(sa, sb, config.top_k, valid)
                ),
            }
        )
    return rows


def group_quality_table(case: Case, runs: dict) -> list[dict]:
    """Deletion and insertion areas per method and sensitive group."""
    if case.groups is None:
        return []
    rows = []
    for attribute in case.groups.columns:
        values = case.groups[attribute].astype(str).to_numpy()
        for group in sorted(set(values)):
            members = values == group
            for name, run in runs.items():
                curves = run["curves"]
                rows.append(
                    {
                        "attribute": attribute,
                        "group": group,
                        "method": name,
                        "n": int(members.sum()),
                        "deletion_auc": quality.nanmean(curves["deletion_auc"][members]),
                        "insertion_auc": quality.nanmean(curves["insertion_auc"][members]),
                        "faithfulness": quality.nanmean(
                            curves["insertion_auc"][members] - curves["deletion_auc"][members]
                        ),
                    }
                )
    return rows
