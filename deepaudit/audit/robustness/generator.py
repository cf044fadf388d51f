"""The robustness audit of a generator (a GAN).

Two questions. How robust is the discriminator? It is attacked as a classifier of real
(held-out reference) against generated samples, with the classifier machinery: robust
accuracy per ε, flipping ε, the gap between real and generated samples, sanity checks.
How stable are the generated samples? Each latent code is moved by a small random
perturbation and by the worst one PGD finds (radius a fraction of the code's norm); the
output's RMS change is measured and, when the target has a label model (e.g. the
zoo's digit classifier), how often the generated sample's label changes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from deepaudit.audit.robustness.attacks import pgd
from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.objectives import output_change
from deepaudit.audit.robustness.problem import Problem, attack_problem
from deepaudit.audit.robustness.report import report_problem, sanity_table
from deepaudit.audit.robustness.result import RobustnessResult
from deepaudit.audit.robustness.space import image_space, latent_space
from deepaudit.audit.robustness.stats import median, proportion
from deepaudit.audit.robustness.sweep import attack_in_batches
from deepaudit.audit.target import Target


def run_generator(
    target: Target, options: RobustnessConfig, seed: int, tick: Callable[[str], None]
) -> RobustnessResult:
    """The robustness family on a generator target (see the module docstring)."""
    result = RobustnessResult()
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    checks = []
    if target.discriminator is None or target.reference_data is None:
        result.notes.append(
            "The discriminator's robustness needs a discriminator and real reference samples; "
            "this target lacks "
            + ("a discriminator." if target.discriminator is None else "reference data.")
        )
    elif target.modality != "image":
        result.notes.append("Discriminator attacks are implemented for image generators only.")
    else:
        problem, logits = _discriminator_problem(target, options, rng, seed)
        grids = {norm: options.grid(norm, "image") for norm in options.norms}
        attacks = attack_problem(problem, options, grids, generator, tick)
        checks = report_problem(problem, attacks, options, target.sample_rng(9), result, logits)
    if options.latent_samples > 0:
        _latent_stability(target, options, seed, generator, result, tick)
    sanity_table(checks, result)
    return result


def _discriminator_problem(target: Target, options, rng, seed) -> tuple[Problem, np.ndarray]:
    """Real reference samples (label 1) and generated ones (label 0), half and half."""
    half = max(1, options.n_samples // 2)
    real_ids = np.sort(target.sample_rng(3).permutation(len(target.reference_data))[:half])
    real = target.reference_data[torch.from_numpy(real_ids)]
    fake = torch.from_numpy(target.generate(half, seed=target.sample_seed))
    x = torch.cat([real, fake]).to(target.device)
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).long().to(target.device)

    def discriminate(inputs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        z = target.score_tensor(inputs)  # the discriminator's logit of "real"
        return torch.stack([torch.zeros_like(z), z], dim=1)

    with torch.no_grad():
        logits = (
            torch.cat(
                [
                    discriminate(x[s : s + target.batch_size], None)
                    for s in range(0, len(x), target.batch_size)
                ]
            )
            .cpu()
            .numpy()
        )
    sources = np.array(["real"] * len(real) + ["generated"] * len(fake))
    problem = Problem(
        modality="image",
        spaces={norm: image_space(x, target.input_range, discriminate) for norm in options.norms},
        labels=labels,
        n_classes=2,
        sensitive=pd.DataFrame({"source": sources}),
        sample_ids=np.concatenate([real_ids, np.arange(len(fake))]),
        batch_size=target.batch_size,
        subject="the discriminator's accuracy (real vs generated)",
    )
    return problem, logits


def _mean_interval(values: np.ndarray, confidence: float, rng, n_boot: int = 4000):
    """Percentile-bootstrap interval of a mean over independent units."""
    draws = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _latent_stability(target, options, seed, generator, result, tick) -> None:
    tick("latent stability")
    device = target.device
    z = target.latent(options.latent_samples, target.sample_seed + 1).to(device)
    rows = torch.arange(len(z), device=device)

    def generate(codes: torch.Tensor, _rows: torch.Tensor) -> torch.Tensor:
        return target.forward(codes)

    with torch.no_grad():
        clean = torch.cat(
            [
                generate(z[s : s + target.batch_size], None)
                for s in range(0, len(z), target.batch_size)
            ]
        )
    classifier = target.label_model
    if classifier is None:
        result.notes.append(
            "No label model: latent stability is measured on the outputs only, not on the "
            "labels of the generated samples."
        )

    def labels_of(x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return (
                torch.cat(
                    [
                        classifier(x[s : s + target.batch_size]).argmax(dim=1)
                        for s in range(0, len(x), target.batch_size)
                    ]
                )
                .cpu()
                .numpy()
            )

    base_labels = labels_of(clean) if classifier is not None else None
    space = latent_space(z, generate)
    objective = output_change(clean)
    norms = z.flatten(1).norm(dim=1)
    rows_out = []
    for radius in options.latent_radii:
        eps = radius * norms
        # Several random directions per code: one alone makes the flip rate as noisy as
        # the seed that drew it.
        random_outs = []
        for _ in range(options.latent_directions):
            direction = torch.randn(z.shape, generator=generator).to(device)
            direction = direction / direction.flatten(1).norm(dim=1).reshape(-1, 1)
            with torch.no_grad():
                random_outs.append(
                    torch.cat(
                        [
                            generate(
                                z[s : s + target.batch_size]
                                + (eps[:, None] * direction)[s : s + target.batch_size],
                                None,
                            )
                            for s in range(0, len(z), target.batch_size)
                        ]
                    )
                )
        worst = attack_in_batches(
            lambda part, part_eps: pgd(
                space,
                part,
                objective,
                part_eps,
                norm="L2",
                steps=options.steps,
                relative_step_size=options.relative_step_size,
                random_init=True,
                mode="best",
                generator=generator,
            ),
            rows,
            target.batch_size,
            eps,
        )
        with torch.no_grad():
            worst_out = space.forward(worst.eta, rows).detach()
        for kind, outs in (("random", random_outs), ("worst-case", [worst_out])):
            rms = np.mean(
                [(o - clean).flatten(1).pow(2).mean(dim=1).sqrt().cpu().numpy() for o in outs],
                axis=0,
            )
            row = {
                "radius": float(radius),
                "direction": kind,
                "n": len(z),
                "median_rms_change": median(rms),
                "mean_rms_change": float(rms.mean()),
            }
            if base_labels is not None:
                # Per code, the share of its directions that flip its label; the interval
                # over codes (its directions are not independent samples).
                flips = np.mean([labels_of(o) != base_labels for o in outs], axis=0)
                if len(outs) == 1:
                    flip = proportion(flips.astype(bool), options.confidence)
                else:
                    low, high = _mean_interval(flips, options.confidence, target.sample_rng(10))
                    flip = {"value": float(flips.mean()), "ci_low": low, "ci_high": high}
                row.update(
                    {
                        "label_flip_rate": flip["value"],
                        "ci_low": flip["ci_low"],
                        "ci_high": flip["ci_high"],
                    }
                )
            rows_out.append(row)
    result.tables["latent_stability"] = rows_out
    smallest = [r for r in rows_out if r["radius"] == options.latent_radii[0]]
    random_row, worst_row = smallest[0], smallest[1]
    amplification = worst_row["median_rms_change"] / max(random_row["median_rms_change"], 1e-12)
    result.metrics["latent_rms_change_random"] = random_row["median_rms_change"]
    result.metrics["latent_rms_change_worst"] = worst_row["median_rms_change"]
    result.metrics["latent_worst_to_random"] = amplification
    if "label_flip_rate" not in random_row:
        return
    result.metrics["latent_label_flip_rate"] = random_row["label_flip_rate"]
    result.metrics["latent_label_flip_rate_worst"] = worst_row["label_flip_rate"]
