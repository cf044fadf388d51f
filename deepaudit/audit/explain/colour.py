"""How much of an image model's attribution falls on colour rather than on brightness.

A planted colour cue (the ``cnn`` reference model's digits are tinted by class) is not a
region of the image, so "attribution on the cue" is measured in colour space: each RGB
pixel is written in an opponent basis, one luminance channel (the mean of R, G, B) and
two colour-difference channels (R - G and (R + G)/2 - B). Integrated Gradients is run
on the model composed with the inverse change of basis, so its attributions split over
those three channels and still add up to the output difference (the change of basis is
linear, so the straight path and completeness are kept). A model that ignores colour
has zero gradient along the colour-difference channels and a colour share of 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import IntegratedGradients

from deepaudit.audit.explain import quality
from deepaudit.audit.explain.methods.base import chunks, quiet_library_notes, to_numpy

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.results import FamilyResult

#: RGB -> (luminance, red-green, yellow-blue).
OPPONENT = torch.tensor(
    [[1 / 3, 1 / 3, 1 / 3], [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]], dtype=torch.float64
)


def applies(case: Case) -> bool:
    return case.space.modality == "image" and case.space.input_shape[0] == 3


def _to_basis(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", matrix.to(x.dtype).to(x.device), x)


def colour_attributions(case: Case, n_steps: int) -> np.ndarray:
    """Integrated Gradients over (luminance, red-green, yellow-blue) channels, N×3×H×W."""
    subject = case.subject
    device = subject.device
    inverse = torch.linalg.inv(OPPONENT)

    def forward(z: torch.Tensor) -> torch.Tensor:
        return subject.score(_to_basis(z, inverse))

    out = []
    rows = max(1, case.target.batch_size)
    for part in chunks(case.n, rows):
        x = case.inputs[part].to(device)
        z = _to_basis(x, OPPONENT)
        zb = _to_basis(case.baselines(x), OPPONENT)
        target = None if case.classes is None else case.classes[part].to(device)
        with quiet_library_notes():
            attr = IntegratedGradients(forward).attribute(
                z,
                baselines=zb,
                target=target,
                n_steps=n_steps,
                internal_batch_size=max(rows, len(z)),
            )
        out.append(to_numpy(attr))
    return np.concatenate(out)


def colour_share(attributions: np.ndarray) -> np.ndarray:
    """Per sample: the share of absolute attribution on the two colour-difference channels."""
    magnitude = np.abs(np.asarray(attributions, dtype=np.float64)).reshape(len(attributions), 3, -1)
    per_channel = magnitude.sum(axis=2)
    total = per_channel.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, per_channel[:, 1:].sum(axis=1) / total, np.nan)


def colour_results(result: FamilyResult, case: Case, config: ExplainConfig) -> None:
    """Add the colour share (overall and per group) and its array to ``result``."""
    attributions = colour_attributions(case, config.n_steps)
    per_sample = colour_share(attributions)
    share = quality.nanmean(per_sample)
    rows = [{"attribute": "all", "group": "all", "n": case.n, "colour_share": share}]
    if case.groups is not None:
        for attribute in case.groups.columns:
            values = case.groups[attribute].astype(str).to_numpy()
            for group in sorted(set(values)):
                members = values == group
                rows.append(
                    {
                        "attribute": attribute,
                        "group": group,
                        "n": int(members.sum()),
                        "colour_share": quality.nanmean(per_sample[members]),
                    }
                )
    result.tables["colour_share"] = rows
    result.arrays["colour_share"] = per_sample.astype(np.float32)
    result.metrics["colour_share"] = share
