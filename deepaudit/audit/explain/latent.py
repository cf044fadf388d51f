"""Sensitivity of a generator's samples to each latent dimension.

For latent codes z and each dimension j, the central difference
``(G(z + h e_j) - G(z - h e_j)) / 2h`` estimates ``∂G(z)/∂z_j``: how much a unit step
along z_j changes the sample (root mean square over pixels) and the discriminator's
logit. Dimensions that change nothing are unused capacity; a few dominant ones suggest
the generator collapsed onto them. (Central differences need only forward passes: torch's
forward-mode AD would cost seconds to load its decompositions on first use.)
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.explain.config import ExplainConfig
from deepaudit.audit.target import Target
from deepaudit.results import FamilyResult

STEP = 1e-2


def latent_sensitivity(target: Target, n: int, seed: int) -> dict[str, np.ndarray]:
    """Per latent dimension: mean RMS change of the samples and mean absolute change of the
    discriminator's logit per unit step, over ``n`` codes drawn with ``seed``."""
    z = target.latent(n, seed)
    d = target.latent_dim
    steps = torch.eye(d).repeat(n, 1) * STEP  # sample i, dimension j at row i*d + j
    codes = z.repeat_interleave(d, dim=0)
    rows = max(1, target.batch_size // 2)
    sample_change, score_change = [], []
    with torch.no_grad():
        for start in range(0, len(codes), rows):
            part = slice(start, start + rows)
            both = torch.cat([codes[part] + steps[part], codes[part] - steps[part]])
            both = both.to(target.device)
            target.n_evaluations += len(both)
            samples = target.call(target.model, both)
            plus, minus = samples.chunk(2)
            change = (plus - minus).flatten(1) / (2 * STEP)
            sample_change.append(change.pow(2).mean(dim=1).sqrt().double().cpu())
            if target.discriminator is not None:
                target.n_evaluations += len(both)
                logits = target.discriminator(samples).reshape(len(samples), -1)[:, 0]
                up, down = logits.chunk(2)
                score_change.append(((up - down) / (2 * STEP)).abs().double().cpu())
    result = {"sample_change": torch.cat(sample_change).numpy().reshape(n, d).mean(axis=0)}
    if score_change:
        result["discriminator_change"] = torch.cat(score_change).numpy().reshape(n, d).mean(axis=0)
    return result


def latent_results(result: FamilyResult, target: Target, config: ExplainConfig, seed: int) -> None:
    """Add the latent sensitivity table and arrays to ``result``."""
    measured = latent_sensitivity(target, config.n_samples, target.sample_seed)
    rows = [
        {
            "dimension": j,
            "sample_change": float(measured["sample_change"][j]),
            **(
                {"discriminator_change": float(measured["discriminator_change"][j])}
                if "discriminator_change" in measured
                else {}
            ),
        }
        for j in range(target.latent_dim)
    ]
    result.tables["latent_sensitivity"] = rows
    for key, values in measured.items():
        result.arrays[f"latent_{key}"] = values.astype(np.float32)
