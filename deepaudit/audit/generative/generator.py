"""Generators: fidelity, coverage, diversity and memorisation of generated samples.

Samples drawn with the audit's seed are compared with the target's real reference
samples on a feature space (:mod:`.features`): Fréchet distance, precision / recall /
density / coverage with bootstrap intervals, and coverage per class of the real samples
when their labels are known (``metadata["reference_labels"]``). With training data
(``Target(train_data=...)``), a real-vs-real baseline puts those numbers in scale and the
memorisation test looks for copies. A seeded sample grid and latent interpolations are
saved for the report and the dashboard.
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.audit.generative.copies import Memorisation, memorisation
from deepaudit.audit.generative.features import (
    FeatureSpace,
    feature_space,
    flatten,
    predicted_classes,
)
from deepaudit.audit.generative.fidelity import (
    PRDC,
    Manifolds,
    frechet_distance,
    frechet_with_interval,
    mean_pairwise_distance,
    prdc,
)
from deepaudit.audit.generative.result import GenerativeResult
from deepaudit.audit.generative.samples import interpolation_strips, jump_ratios
from deepaudit.audit.target import Target
from deepaudit.errors import described, parameter_error

REFERENCE_LABELS_KEY = "reference_labels"


def _subset(n: int, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    if cap is None or n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, size=cap, replace=False))


def train_data(target: Target) -> torch.Tensor | None:
    """The target's training samples, if it was given them."""
    return getattr(target, "train_data", None)


def check_target(target: Target, options: GenerativeConfig, seed: int) -> None:
    """Shapes and sizes that would break the audit halfway, refused before the work."""
    n_real = len(target.reference_data)
    if n_real <= options.k:
        raise parameter_error(
            "reference_data",
            "Target",
            f"more real samples than k ({options.k}) for the generative audit",
            described(f"{n_real} samples"),
        )
    shape = tuple(target.generate(z=target.latent(1, seed)).shape[1:])
    pairs = (("reference_data", target.reference_data), ("train_data", train_data(target)))
    for name, data in pairs:
        if data is not None and tuple(data.shape[1:]) != shape:
            raise parameter_error(
                name,
                "Target",
                f"samples of the generator's output shape {shape}",
                described(f"samples of shape {tuple(data.shape[1:])}"),
            )


def run_generator(target: Target, options: GenerativeConfig, seed: int) -> GenerativeResult:
    """The generative family on a generator (see the module docstring)."""
    space = feature_space(target, options.feature_space, options.projection_dim, seed)
    check_target(target, options, seed)
    result = GenerativeResult()
    # Which real samples and latents are audited is the data (the sample seed); the
    # bootstraps below are the audit's own randomness (the seed).
    real_ids = _subset(len(target.reference_data), options.n_real, target.sample_rng(4))
    real = target.reference_data[real_ids].numpy()
    fake = target.generate(options.n_generated, seed=target.sample_seed)
    f_real, f_fake = space(real), space(fake)
    result.metrics.update(
        {"feature_space": space.name, "n_generated": len(fake), "n_real": len(real)}
    )

    values, intervals, manifolds = prdc(
        f_real,
        f_fake,
        options.k,
        n_bootstrap=options.n_bootstrap,
        confidence=options.confidence,
        rng=target.sample_rng(6),  # interval resamples follow the data
        progress=options.progress,
    )
    fd, fd_interval = frechet_with_interval(
        f_fake,
        f_real,
        n_bootstrap=options.n_bootstrap_frechet,
        confidence=options.confidence,
        rng=target.sample_rng(7),
        progress=options.progress,
    )
    values["frechet_distance"] = fd
    if fd_interval is not None:
        intervals["frechet_distance"] = fd_interval
    result.metrics.update(values)

    train = train_data(target)
    train_ids = None
    baseline: dict[str, float] = {}
    if train is not None:
        train_ids = _subset(len(train), options.n_train, target.sample_rng(5))
        baseline = _baseline(
            result, space, train, train_ids, f_real, manifolds, options, target.sample_seed
        )
    result.tables["fidelity"] = _fidelity_rows(values, intervals, baseline)

    _coverage_by_class(result, target, real_ids, manifolds)
    _uncovered(result, real, real_ids, manifolds, options.n_neighbours_shown)
    _diversity(result, f_real, f_fake)
    _samples(result, target, fake, space, options, seed)

    mem = None
    if train is not None:
        train_rows = train[train_ids].numpy()
        if options.memorisation_space == "pixels":
            searched = (flatten(train_rows), flatten(fake), flatten(real))
        else:
            searched = (space(train_rows), f_fake, f_real)
        classes = {}
        if options.copy_threshold_by_class and target.label_model is not None:
            classes = {
                "generated_classes": predicted_classes(target.label_model, fake, target),
                "heldout_classes": predicted_classes(target.label_model, real, target),
            }
        mem = memorisation(
            *searched,
            copy_quantile=options.copy_quantile,
            confidence=options.confidence,
            **classes,
        )
        _memorisation(result, mem, fake, train_rows, train_ids, options)
        if mem.by_class:
            names = target.label_class_names
            result.tables["copy_thresholds"] = [
                {**row, "class": _class_name(names, row["class"])} for row in mem.by_class
            ]
    else:
        result.notes.append(
            "No training data was given (Target(train_data=...)): memorisation was not "
            "measured and there is no real-vs-real baseline."
        )
    return result


def _baseline(
    result: GenerativeResult,
    space: FeatureSpace,
    train: torch.Tensor,
    train_ids: np.ndarray,
    f_real: np.ndarray,
    manifolds: Manifolds,
    options: GenerativeConfig,
    seed: int,
) -> dict[str, float]:
    """What a perfect generator would score: training against held-out real samples, as
    many as there are real ones (the statistics depend on the sample sizes)."""
    base_ids = train_ids[_subset(len(train_ids), len(f_real), np.random.default_rng([seed, 4]))]
    if len(base_ids) <= options.k:
        return {}
    if len(base_ids) < len(f_real):
        result.notes.append(
            f"The real baseline compares {len(base_ids)} training samples with {len(f_real)} "
            "held-out ones; the statistics depend on sample sizes, so compare with care."
        )
    f_base = space(train[base_ids].numpy())
    baseline = prdc(f_real, f_base, options.k, real_radii=manifolds.real_radii)[0]
    baseline["frechet_distance"] = frechet_distance(f_base, f_real)
    result.metrics.update({f"baseline_{k}": v for k, v in baseline.items()})
    result.metrics["frechet_ratio"] = result.metrics["frechet_distance"] / max(
        baseline["frechet_distance"], 1e-12
    )
    return baseline


def _fidelity_rows(values: dict, intervals: dict, baseline: dict) -> list[dict]:
    rows = []
    for name in (*PRDC, "frechet_distance"):
        low, high = intervals.get(name, (None, None))
        rows.append(
            {
                "metric": name,
                "value": values[name],
                "interval_low": low,
                "interval_high": high,
                "real_baseline": baseline.get(name),
            }
        )
    return rows


def _coverage_by_class(
    result: GenerativeResult, target: Target, real_ids: np.ndarray, m: Manifolds
) -> None:
    """Recall and coverage among the real samples of each class (when labels are known)."""
    labels = target.metadata.get(REFERENCE_LABELS_KEY)
    if labels is None or len(labels) != len(target.reference_data):
        return
    labels = np.asarray(labels)[real_ids]
    recalled, covered = m.in_fake_balls.any(axis=1), m.in_real_balls.any(axis=1)
    rows = []
    for label in np.unique(labels):
        mask = labels == label
        rows.append(
            {
                "class": str(label),
                "n_real": int(mask.sum()),
                "recall": float(recalled[mask].mean()),
                "coverage": float(covered[mask].mean()),
            }
        )
    result.tables["coverage_by_class"] = rows


def _uncovered(
    result: GenerativeResult, real: np.ndarray, real_ids: np.ndarray, m: Manifolds, n: int
) -> None:
    """The real samples farthest (in their own k-NN radii) from any generated sample."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(m.real_radii > 0, m.nearest_fake / m.real_radii, np.inf)
    order = np.argsort(-gap, kind="stable")[:n]
    result.arrays["uncovered_samples"] = real[order].astype(np.float32)
    result.arrays["uncovered_ids"] = real_ids[order].astype(np.int64)
    result.arrays["uncovered_gap"] = gap[order].astype(np.float64)


def _diversity(result: GenerativeResult, f_real: np.ndarray, f_fake: np.ndarray) -> None:
    real_spread, fake_spread = mean_pairwise_distance(f_real), mean_pairwise_distance(f_fake)
    ratio = fake_spread / real_spread if real_spread > 0 else float("nan")
    result.metrics.update(
        {
            "generated_pairwise_distance": fake_spread,
            "real_pairwise_distance": real_spread,
            "diversity_ratio": ratio,
        }
    )
    result.tables["diversity"] = [
        {"samples": "generated", "n": len(f_fake), "mean_pairwise_distance": fake_spread},
        {"samples": "real", "n": len(f_real), "mean_pairwise_distance": real_spread},
    ]


def _samples(
    result: GenerativeResult,
    target: Target,
    fake: np.ndarray,
    space: FeatureSpace,
    options: GenerativeConfig,
    seed: int,
) -> None:
    grid = fake[: options.grid_size]
    result.arrays["sample_grid"] = grid.astype(np.float32)
    if space.classifier is not None and len(grid):
        result.arrays["sample_grid_classes"] = predicted_classes(space.classifier, grid, target)
    if options.n_interpolations:
        strips = interpolation_strips(
            target, options.n_interpolations, options.interpolation_steps, seed + 1
        )
        ratios = jump_ratios(strips)
        result.arrays["interpolations"] = strips.astype(np.float32)
        result.arrays["interpolation_jump_ratios"] = ratios
        result.metrics["interpolation_max_jump_ratio"] = float(np.nanmax(ratios))


def _class_name(names, index: int) -> str:
    return str(names[index]) if names is not None and 0 <= index < len(names) else str(index)


def _memorisation(
    result: GenerativeResult,
    mem: Memorisation,
    fake: np.ndarray,
    train_rows: np.ndarray,
    train_ids: np.ndarray,
    options: GenerativeConfig,
) -> None:
    result.metrics.update(
        {
            "copy_share": mem.copy_share,
            "copy_share_low": float(mem.copy_interval[0]),
            "copy_share_high": float(mem.copy_interval[1]),
            "copy_quantile": options.copy_quantile,
            "copy_threshold": mem.threshold,
            "expected_copy_share": mem.expected_share,
            "heldout_copy_share": mem.heldout_share,
            "copy_threshold_by_class": bool(mem.by_class),
            "closer_than_heldout_probability": mem.closer_probability,
            "closer_than_heldout_p_value": mem.p_value,
            "n_train_searched": len(train_rows),
        }
    )
    gen_d, held_d = mem.generated_distances, mem.heldout_distances
    result.tables["memorisation"] = [
        {
            "samples": label,
            "n": len(d),
            "min_distance": float(d.min()),
            "q01_distance": float(np.quantile(d, 0.01)),
            "median_distance": float(np.median(d)),
            "share_under_threshold": share,
        }
        for label, d, share in (
            ("generated", gen_d, mem.copy_share),
            ("held-out real", held_d, mem.heldout_share),
        )
    ]
    edges = np.histogram_bin_edges(np.concatenate([gen_d, held_d]), bins=options.n_bins)
    result.arrays.update(
        {
            "memorisation_edges": edges,
            "memorisation_generated_counts": np.histogram(gen_d, edges)[0],
            "memorisation_heldout_counts": np.histogram(held_d, edges)[0],
            "memorisation_generated_distances": gen_d.astype(np.float32),
            "memorisation_heldout_distances": held_d.astype(np.float32),
        }
    )
    result.arrays["copy_ids"] = np.flatnonzero(mem.copies)[:20].astype(np.int64)
    closest = np.argsort(gen_d, kind="stable")[: options.n_neighbours_shown]
    neighbours = mem.generated_neighbours[closest]
    result.arrays.update(
        {
            "neighbour_generated": fake[closest].astype(np.float32),
            "neighbour_train": train_rows[neighbours].astype(np.float32),
            "neighbour_distances": gen_d[closest].astype(np.float64),
            "neighbour_generated_ids": closest.astype(np.int64),
            "neighbour_train_ids": train_ids[neighbours].astype(np.int64),
        }
    )
    result.tables["nearest_neighbours"] = [
        {
            "rank": r + 1,
            "generated_id": int(g),
            "train_id": int(train_ids[t]),
            "distance": float(gen_d[g]),
            "distance_over_threshold": float(gen_d[g] / mem.thresholds[g])
            if mem.thresholds[g] > 0
            else None,
            "copy": bool(gen_d[g] <= mem.thresholds[g]),
        }
        for r, (g, t) in enumerate(zip(closest, neighbours, strict=True))
    ]
