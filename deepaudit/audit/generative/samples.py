"""What a generator's samples look like: a seeded grid and latent interpolations.

Interpolations follow the great circle between two standard normal codes (spherical
interpolation, as is usual for Gaussian latents: the straight line passes through codes
of atypically small norm). A smooth generator changes its output by about the same
amount at each step; a jump shows as one step much larger than the others.
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.target import Target


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` codes from ``z0`` to ``z1`` along the great circle (both ends included);
    straight-line interpolation when the two are (anti)parallel."""
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[:, None]
    a, b = z0.double(), z1.double()
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if torch.sin(omega).abs() < 1e-6:
        path = (1 - t) * a + t * b
    else:
        path = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    return path.float()


def interpolation_strips(target: Target, n_strips: int, steps: int, seed: int) -> np.ndarray:
    """``n_strips`` interpolations of ``steps`` samples each, ``(n_strips, steps, ...)``.

    The end codes are drawn with ``seed``: the same seed gives the same strips.
    """
    ends = target.latent(2 * n_strips, seed)
    codes = torch.cat([slerp(ends[2 * i], ends[2 * i + 1], steps) for i in range(n_strips)])
    samples = target.generate(z=codes)
    return samples.reshape(n_strips, steps, *samples.shape[1:])


def jump_ratios(strips: np.ndarray) -> np.ndarray:
    """Per strip: its largest step between neighbouring samples over its mean step.

    1 means evenly paced; close to ``steps - 1`` means all the change happens at once.
    A strip whose samples never change gets NaN.
    """
    flat = strips.reshape(strips.shape[0], strips.shape[1], -1).astype(np.float64)
    step = np.linalg.norm(np.diff(flat, axis=1), axis=2)
    mean = step.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, step.max(axis=1) / mean, np.nan)
