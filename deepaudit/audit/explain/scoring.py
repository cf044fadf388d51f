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


def _check_samples(case: Case, spec, config: ExplainConfig, method_config, repeats: int) -> int:
    """Samples a check that reruns the method ``repeats`` times may use: at most
    ``n_sanity_samples``, and no more than ``max_check_evaluations`` allow (0: skip it)."""
    per_sample = max(1, spec.estimate(case, method_config, 1)) * max(1, repeats)
    return min(config.n_sanity_samples, case.n, config.max_check_evaluations // per_sample)


def mean_interval(
    per_sample: np.ndarray, confidence: float, seed: int, n_boot: int = 4000
) -> tuple[float, float, float]:
    """The mean of per-sample values and its percentile-bootstrap interval over the
    samples (NaN values left out; NaN interval with fewer than two samples)."""
    values = np.asarray(per_sample, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng([seed, 7])
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return mean, float(low), float(high)


def quality_table(
    case: Case, runs: dict, config: ExplainConfig, seed: int
) -> tuple[list[dict], list[dict]]:
    """One quality row per method and the random reference row; the randomisation rows.

    The sanity (randomisation), stability and faithfulness of each method come with an
    interval over the samples they were measured on, which their verdicts read."""
    rows, stages = [], []
    boot_seed = case.target.sample_seed  # interval resamples follow the data
    reference, _ = random_row(case, config, seed)
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
        nan3 = (float("nan"),) * 3
        randomisation, sanity_n, stability_n = nan3, 0, 0
        if config.randomisation_stages:
            repeats = config.randomisation_stages + config.randomisation_repeats - 1
            n = _check_samples(case, spec, config, method_config, repeats)
            if n:
                method_stages, per_sample = quality.randomisation_test(
                    case, spec, method_config, run["scores"], n, seed
                )
                stages.extend(method_stages)
                randomisation = mean_interval(per_sample, config.confidence, boot_seed)
                sanity_n = n
            else:
                notes.append("randomisation skipped (over max_check_evaluations)")
        stability = nan3
        if spec.stochastic:
            n = _check_samples(case, spec, config, method_config, config.n_seeds - 1)
            if n:
                per_sample = quality.stability_across_seeds(
                    case, spec, method_config, run["scores"], n, seed
                )
                stability = mean_interval(per_sample, config.confidence, boot_seed)
                stability_n = n
            else:
                notes.append("stability skipped (over max_check_evaluations)")
        note = "; ".join(notes)
        run["stability"] = stability[0]
        faithful = curves["insertion_auc"] - curves["deletion_auc"]
        # Chance is 0 exactly: under a random order the insertion curve at k features is
        # the deletion curve at n - k, so their areas are equal in expectation. Reading
        # the gain against 0, not against the drawn random orders, keeps their noise out
        # of the verdict (the random row shows the empirical chance level beside it).
        gain = mean_interval(faithful, config.confidence, boot_seed)
        rows.append(
            {
                "method": name,
                "label": spec.label,
                "library": spec.library,
                "deletion_auc": quality.nanmean(curves["deletion_auc"]),
                "insertion_auc": quality.nanmean(curves["insertion_auc"]),
                "faithfulness": quality.nanmean(faithful),
                "faithfulness_gain": gain[0],
                "faithfulness_gain_low": gain[1],
                "faithfulness_gain_high": gain[2],
                "infidelity": infidelity,
                "sensitivity": sensitivity,
                "randomisation": randomisation[0],
                "randomisation_low": randomisation[1],
                "randomisation_high": randomisation[2],
                "randomisation_samples": sanity_n,
                "sanity": sanity_verdict(*randomisation, config),
                "completeness_gap": run["attribution"].completeness_gap,
                "steps": run["attribution"].steps,
                "stability": stability[0],
                "stability_low": stability[1],
                "stability_high": stability[2],
                "stability_samples": stability_n,
                "seconds": run["seconds"],
                "evaluations": run["evaluations"],
                "check_seconds": time.perf_counter() - started,
                "check_evaluations": case.target.n_evaluations - before,
                "note": note,
            }
        )
    rows.append(reference)
    return rows, stages


#: Random feature orders the reference row averages (chance is their mean: one order
#: alone is as noisy as a method's own curve, and would move verdicts with the seed).
RANDOM_ORDERS = 8


def random_orders(case: Case, config: ExplainConfig) -> int:
    """Random orders the reference row averages: ``RANDOM_ORDERS``, or as many of their
    deletion and insertion curves as ``max_check_evaluations`` holds (at least one)."""
    per_order = case.n * 2 * (config.n_curve_steps + 1)
    return max(1, min(RANDOM_ORDERS, config.max_check_evaluations // max(1, per_order)))


def random_row(case: Case, config: ExplainConfig, seed: int) -> tuple[dict, np.ndarray]:
    """The reference every score is read against: maps of random numbers (the mean of
    ``RANDOM_ORDERS`` of them, fewer when their curves would overrun
    ``max_check_evaluations``); and its faithfulness on each sample (what each method's
    is compared with, sample by sample)."""
    rng = np.random.default_rng(seed)
    drawn = []
    for _ in range(random_orders(case, config)):
        values = rng.standard_normal(tuple(case.inputs.shape)).astype(np.float32)
        drawn.append(
            quality.deletion_insertion(
                case, case.subject, case.inputs, case.classes, case.space.scores(values),
                config.n_curve_steps,
            )
        )  # fmt: skip
    curves = {
        key: np.mean([np.asarray(c[key], dtype=np.float64) for c in drawn], axis=0)
        for key in ("deletion_auc", "insertion_auc")
    }
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
    faithful = curves["insertion_auc"] - curves["deletion_auc"]
    row = {
        "method": "random",
        "label": "Random (reference)",
        "library": "numpy",
        "deletion_auc": quality.nanmean(curves["deletion_auc"]),
        "insertion_auc": quality.nanmean(curves["insertion_auc"]),
        "faithfulness": quality.nanmean(faithful),
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
        "note": "a random feature order, for reference"
        + ("" if len(drawn) == RANDOM_ORDERS else f" (the mean of {len(drawn)})"),
    }
    return row, np.asarray(faithful, dtype=np.float64)


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
