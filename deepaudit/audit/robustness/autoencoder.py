"""The robustness audit of an autoencoder used as an anomaly detector.

Two adversaries, each with a bounded perturbation: one hides an anomaly (pushes its
reconstruction error to the threshold or below), the other gets a normal sample flagged
(pushes its error above the threshold). For each ε of the grid: the share of samples
each succeeds on, overall and per group; how far the score moves at the reference ε;
the smallest ε that flips each sample; a few hidden anomalies as examples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from deepaudit.audit.changes import raw_changes
from deepaudit.audit.robustness import examples as ex
from deepaudit.audit.robustness import sanity
from deepaudit.audit.robustness.attacks import input_gradients, pgd
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.grade import DIRECTIONS
from deepaudit.audit.robustness.objectives import score_shift
from deepaudit.audit.robustness.report import sanity_table
from deepaudit.audit.robustness.result import RobustnessResult
from deepaudit.audit.robustness.space import (
    AttackSpace,
    image_space,
    mutable_columns,
    tabular_space,
)
from deepaudit.audit.robustness.stats import (
    bootstrap_median,
    group_masks,
    largest_gap,
    median,
    proportion,
)
from deepaudit.audit.robustness.sweep import Sweep, attack_in_batches, sweep
from deepaudit.audit.target import Target


def _space(target: Target, x: torch.Tensor, options: RobustnessConfig) -> AttackSpace:
    def score(inputs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return target.score_tensor(inputs)

    if target.modality == "image":
        return image_space(x, target.input_range, score)
    return tabular_space(target, x, mutable_columns(target, options.immutable_features), score)


def run_autoencoder(
    target: Target, options: RobustnessConfig, seed: int, tick: Callable[[str], None]
) -> RobustnessResult:
    """The robustness family on an autoencoder target (see the module docstring)."""
    result = RobustnessResult()
    tick("anomaly scores")
    scores = target.reconstruction_error()
    threshold = target.anomaly_threshold
    flagged = scores > threshold
    rng = target.sample_rng(9)  # the intervals' resamples follow the data
    generator = torch.Generator().manual_seed(seed)
    half = max(1, options.n_samples // 2)
    pick = target.sample_rng(3)  # which rows are attacked: the data, not the seed
    anomalies = pick.permutation(np.flatnonzero(flagged))[:half]
    normals = pick.permutation(np.flatnonzero(~flagged))[: options.n_samples - len(anomalies)]
    result.metrics.update(
        {
            "n_samples": target.n_samples,
            "anomaly_threshold": threshold,
            "flag_rate": float(flagged.mean()),
        }
    )
    result.tables.update(
        {"curve": [], "flip_epsilon": [], "group_gaps": [], "score_shift": [], "examples": []}
    )
    checks: list[sanity.Check] = []
    originals, adversarials = [], []
    for name, direction, who, _ in DIRECTIONS:
        ids = np.sort(anomalies if direction < 0 else normals)
        if len(ids) == 0:
            result.notes.append(f"No {who} among the evaluation samples: {name} not measured.")
            continue
        x = target.data[torch.from_numpy(ids)].to(target.device)
        sensitive = (
            None if target.sensitive is None else target.sensitive.iloc[ids].reset_index(drop=True)
        )
        objective = score_shift(threshold, direction)
        for norm in options.norms:
            space = _space(target, x, options)
            grid = options.grid(norm, target.modality)
            sw = sweep(space, objective, norm, grid, options, generator, target.batch_size, tick)
            _tables(
                result,
                name,
                sw,
                sensitive,
                ids,
                scores,
                space,
                objective,
                options,
                rng,
                target.batch_size,
            )
            if norm == options.norms[0]:
                _reference_metrics(result, name, sw, space, options)
                shown = _examples(
                    name, sw, space, ids, sensitive, scores, threshold, target, options
                )
                for row, original, adversarial in shown:
                    row["example"] = len(result.tables["examples"])
                    result.tables["examples"].append(row)
                    originals.append(original)
                    adversarials.append(adversarial)
                checks += _checks(space, objective, sw, options, name, target.batch_size)
    if originals:
        result.arrays["examples_original"] = np.stack(originals).astype(np.float32)
        result.arrays["examples_adversarial"] = np.stack(adversarials).astype(np.float32)
        result.arrays["examples_score_before"] = np.asarray(
            [r["score_before"] for r in result.tables["examples"]]
        )
        result.arrays["examples_score_after"] = np.asarray(
            [r["score_after"] for r in result.tables["examples"]]
        )
    sanity_table(checks, result)
    return result


def _checks(space, objective, sw: Sweep, options, name: str, batch_size: int) -> list:
    """Zero gradients of the score and monotonicity, named after the adversary."""
    rows = torch.arange(space.n, device=space.x0.device)
    grads = torch.cat(
        [
            input_gradients(space, rows[s : s + batch_size], objective)
            for s in range(0, len(rows), batch_size)
        ]
    )
    checks = [
        sanity.zero_gradient_check(
            *sanity.zero_gradient_count(grads.cpu().numpy()), options.max_zero_gradient_fraction
        )
    ]
    broken, tried, smaller, larger = sw.non_monotone
    if tried:
        checks.append(
            sanity.monotonicity_check(
                broken, tried, options.max_non_monotone_fraction, smaller, larger
            )
        )
    for check in checks:
        check.check = f"{check.check}_{name}"
    return checks


def _tables(
    result, name, sw: Sweep, sensitive, ids, scores, space, objective, options, rng, batch_size
):
    """Success rate per ε and group, flipping ε, score shift at the reference ε, gaps."""
    masks = group_masks(sensitive, len(ids))
    for k, eps in enumerate((0.0, *sw.grid)):
        broken = ~sw.robust(k - 1)
        for attribute, group, mask in masks:
            rate = proportion(broken[mask], options.confidence)
            result.tables["curve"].append(
                {
                    "attack": "PGD",
                    "direction": name,
                    "norm": sw.norm,
                    "epsilon": float(eps),
                    "attribute": attribute,
                    "group": group,
                    "n": rate["n"],
                    "success_rate": rate["value"],
                    "ci_low": rate["ci_low"],
                    "ci_high": rate["ci_high"],
                }
            )
    for attribute, group, mask in masks:
        values = sw.flip_epsilon[mask]
        low, high = bootstrap_median(values, rng, options.n_bootstrap, options.confidence)
        result.tables["flip_epsilon"].append(
            {
                "direction": name,
                "norm": sw.norm,
                "attribute": attribute,
                "group": group,
                "n": len(values),
                "median": median(values),
                "ci_low": low,
                "ci_high": high,
                "n_unbroken": int(np.isinf(values).sum()),
            }
        )
    k = reference_index(sw.grid, options)
    rows = torch.arange(len(ids), device=space.x0.device)
    moved = attack_in_batches(
        lambda part, _: pgd(
            space,
            part,
            objective,
            sw.grid[k],
            norm=sw.norm,
            steps=options.steps,
            relative_step_size=options.relative_step_size,
            mode="best",
        ),
        rows,
        batch_size,
    )
    after = np.abs(moved.loss.cpu().numpy())
    before = scores[ids]
    change = (after - before) / np.maximum(before, 1e-12)
    for attribute, group, mask in masks:
        result.tables["score_shift"].append(
            {
                "direction": name,
                "norm": sw.norm,
                "epsilon": sw.grid[k],
                "attribute": attribute,
                "group": group,
                "n": int(mask.sum()),
                "median_relative_change": median(change[mask]),
                "median_score_before": median(before[mask]),
                "median_score_after": median(after[mask]),
            }
        )
    result.metrics[f"median_relative_score_change_{name}_{sw.norm}"] = median(change)
    if sensitive is not None:
        broken = ~sw.robust(k)
        for attribute in sensitive.columns:
            values = sensitive[attribute].astype(str).to_numpy()
            gap = largest_gap(
                {g: broken[values == g] for g in sorted(set(values))},
                rng,
                options.n_bootstrap,
                options.confidence,
                options.min_group_size,
            )
            if gap is not None:
                result.tables["group_gaps"].append(
                    {
                        "direction": name,
                        "norm": sw.norm,
                        "epsilon": sw.grid[k],
                        "attribute": str(attribute),
                        "metric": "success_rate",
                        **gap,
                    }
                )


def _reference_metrics(result, name: str, sw: Sweep, space, options) -> None:
    """What the findings read for one adversary: its success at the reference ε, the
    ε itself and its unit, the median flipping ε."""
    k = reference_index(sw.grid, options)
    result.metrics[f"{name}_rate_{sw.norm}"] = proportion(~sw.robust(k), options.confidence)[
        "value"
    ]
    result.metrics[f"median_flip_epsilon_{name}_{sw.norm}"] = median(sw.flip_epsilon)
    result.metrics[f"reference_epsilon_{name}_{sw.norm}"] = sw.grid[k]
    result.metrics[f"attack_unit_{sw.norm}"] = space.unit


def _examples(name, sw: Sweep, space, ids, sensitive, scores, threshold, target, options):
    """``(row, original, adversarial)`` for a few samples per group the attack flipped."""
    broken = (sw.broken_at >= 0) & (sw.broken_at < len(sw.grid))
    chosen = ex.pick(broken, sensitive, options.n_examples)
    if not chosen:
        return []
    rows = torch.arange(len(ids), device=space.x0.device)
    adversarial = space.inputs(sw.eta, rows).detach()
    index = torch.as_tensor([i for i, _, _ in chosen], device=space.x0.device)
    after = target.reconstruction_error(adversarial[index])
    shown = []
    for j, (i, attribute, group) in enumerate(chosen):
        o = space.x0[i].cpu().numpy()
        a = adversarial[i].cpu().numpy()
        row = {
            "attack": "PGD",
            "direction": name,
            "norm": sw.norm,
            "epsilon": sw.grid[sw.broken_at[i]],
            "attribute": attribute,
            "group": group,
            "sample_id": int(ids[i]),
            "score_before": float(scores[ids[i]]),
            "score_after": float(after[j]),
            "threshold": threshold,
        }
        if target.modality == "tabular":
            row["changes"] = raw_changes(o, a, target)
        shown.append((row, o, a))
    return shown
