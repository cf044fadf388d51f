"""shap's explainers adapted to a Subject: KernelSHAP over logical tabular features with a
k-means background, GradientExplainer and DeepExplainer on images (DeepExplainer's
additivity is checked here, not by shap, which raises falsely with ``ranked_outputs``)."""

from __future__ import annotations

import functools
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import torch

from deepaudit.audit.explain.methods.base import (
    Attribution,
    numpy_seeded,
    quiet_library_notes,
    to_numpy,
)

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case


@functools.cache
def import_shap() -> ModuleType:
    """shap, imported on first use (it takes seconds); its plotting module's notices about
    matplotlib's colour-map API are not ours to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import shap

    return shap


def kmeans_background(case: Case, k: int) -> np.ndarray:
    """``k`` k-means centres of the data in logical-feature form (shap.kmeans rounds every
    value to one the data holds, so category indices stay valid)."""
    shap = import_shap()
    data = case.target.data
    rng = np.random.default_rng(case.seed)
    rows = np.sort(rng.choice(len(data), min(len(data), 1000), replace=False))
    encoded = case.codec.encode(data[torch.from_numpy(rows)].numpy())
    k = min(k, len(np.unique(encoded, axis=0)))
    return shap.kmeans(encoded, k).data


def kernel_shap(case, subject, x, classes, config, seed) -> Attribution:
    """KernelSHAP (shap.KernelExplainer) over logical features, one categorical feature
    masked as a whole; ``kernel_shap_samples`` coalitions per explained sample."""
    shap = import_shap()
    background = kmeans_background(case, config.kernel_shap_background)
    codec = case.codec
    z = codec.encode(x.cpu().numpy())
    values = np.zeros(z.shape)
    gap = np.zeros(len(z))
    diff = np.zeros(len(z))
    picks = np.zeros(len(z), dtype=np.int64) if classes is None else classes.cpu().numpy()
    for c in np.unique(picks):
        rows = np.nonzero(picks == c)[0]

        def f(zz: np.ndarray, c: int = int(c)) -> np.ndarray:
            inputs = torch.from_numpy(codec.decode(zz))
            out = []
            with torch.no_grad():
                for start in range(0, len(inputs), case.target.batch_size):
                    score = subject.score(inputs[start : start + case.target.batch_size])
                    out.append(to_numpy(score[:, c] if score.ndim == 2 else score))
            return np.concatenate(out).astype(np.float64)

        explainer = shap.KernelExplainer(f, background)
        phi = np.zeros((len(rows), z.shape[1]))
        for j, row in enumerate(rows):
            # A fresh seed per sample: a sample's values do not depend on its batch.
            with numpy_seeded(seed), quiet_library_notes():
                values_j = explainer.shap_values(
                    z[row : row + 1], nsamples=config.kernel_shap_samples, l1_reg=False, silent=True
                )
            phi[j] = np.asarray(values_j, dtype=np.float64).reshape(-1)
        values[rows] = phi
        diff[rows] = f(z[rows]) - float(explainer.expected_value)
        gap[rows] = phi.sum(axis=1) - diff[rows]
    return Attribution(case.space.spread(values).astype(np.float32), gap, diff)


def _picked_values(result, two_d_outputs: int, n: int) -> np.ndarray:
    """The explained output's values from shap's ``(values, indexes)`` or bare arrays."""
    if isinstance(result, tuple):
        result = result[0]
    values = np.asarray(result[0] if isinstance(result, list) else result)
    if values.ndim >= 2 and values.shape[0] == n and values.shape[-1] in (1, two_d_outputs):
        values = values[..., 0]
    return values


def shap_gradient(case, subject, x, classes, config, seed) -> Attribution:
    """shap.GradientExplainer (expected gradients) against the Case's background, for the
    predicted class (its top-ranked output)."""
    shap = import_shap()
    device = subject.device
    module = subject.as_module(two_d=True)
    explainer = shap.GradientExplainer(
        module, case.background.to(device), batch_size=max(1, case.target.batch_size)
    )
    with quiet_library_notes():
        result = explainer.shap_values(
            x.to(device),
            nsamples=config.n_noise_samples,
            ranked_outputs=1 if subject.has_classes else None,
            rseed=int(seed) % 2**32,
        )
    values = _picked_values(result, 1, len(x))
    return Attribution(values.astype(np.float32))


def shap_deep(case, subject, x, classes, config, seed) -> Attribution:
    """shap.DeepExplainer (DeepLIFT with a background distribution); additivity is
    measured here as the completeness gap instead of shap's own check."""
    shap = import_shap()
    device = subject.device
    module = subject.as_module(two_d=True)
    background = case.background.to(device)
    explainer = shap.DeepExplainer(module, background)
    with quiet_library_notes():
        result = explainer.shap_values(
            x.to(device),
            ranked_outputs=1 if subject.has_classes else None,
            check_additivity=False,
        )
    values = _picked_values(result, 1, len(x)).astype(np.float64)
    with torch.no_grad():
        out = subject.score(x.to(device))
        base = subject.score(background).mean(dim=0)
    if subject.has_classes:
        cls = classes.to(out.device)
        diff = to_numpy(out.gather(1, cls[:, None])[:, 0] - base[cls]).astype(np.float64)
    else:
        diff = to_numpy(out - base).astype(np.float64)
    gap = values.reshape(len(values), -1).sum(axis=1) - diff
    return Attribution(values.astype(np.float32), gap, diff)
