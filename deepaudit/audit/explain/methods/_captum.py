"""captum's attribution methods, adapted to a Subject: batching from the memory budget,
baselines from the Case, seeds for the stochastic ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import (
    DeepLift,
    FeatureAblation,
    GradientShap,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    LayerIntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)

from deepaudit.audit.device import has_recurrent_layers
from deepaudit.audit.explain.methods.base import (
    Attribution,
    chunks,
    noise_scale,
    quiet_library_notes,
    targets_of,
    to_numpy,
)
from deepaudit.audit.explain.subject import layer_of, seeded

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.subject import Subject


def _rows(case: Case) -> int:
    """Rows one forward/backward pass may hold: the target's batch size (memory budget)."""
    return max(1, int(case.target.batch_size))


def _gap(subject: Subject, x, baselines, classes, attributions):
    """Completeness per sample: the sum of attributions minus (f(x) - f(baseline)), that
    difference, and the outputs' size ``(|f(x)| + |f(baseline)|) / 2``."""
    with torch.no_grad():
        at_x, at_baseline = subject.picked(x, classes), subject.picked(baselines, classes)
    total = attributions.reshape(len(attributions), -1).sum(axis=1)
    at_x, at_baseline = (to_numpy(v).astype(np.float64) for v in (at_x, at_baseline))
    diff = at_x - at_baseline
    scale = (np.abs(at_x) + np.abs(at_baseline)) / 2
    return total - diff, diff, scale


def _held_forward(case: Case, subject: Subject):
    """The score with integer-coded categorical columns held at the explained sample's
    values (passed as captum's ``additional_forward_args``), for methods that move the
    input randomly (noise, random baselines): a category code is not a quantity to
    interpolate. ``None`` when the data has no such columns."""
    if not case.blind.any():
        return None
    mask = case.blind_columns(subject.device)

    def forward(x: torch.Tensor, held: torch.Tensor) -> torch.Tensor:
        return subject.score(torch.where(mask, held, x))

    return forward


def integrated_gradients(case, subject, x, classes, config, seed) -> Attribution:
    """Integrated Gradients from the Case's baseline; on text, layer IG on the embedding
    summed to one score per token.

    The steps adapt: from ``n_steps``, doubled until the attributions add up to the
    output difference within ``max_completeness_gap``, or ``max_steps`` is reached, or
    another try would overrun ``max_evaluations``; the steps used are recorded."""
    steps, spent = config.n_steps, 0
    while True:
        attribution = _integrated_gradients(case, subject, x, classes, steps)
        spent += len(x) * (steps + 2)
        gap = attribution.completeness_gap
        more = len(x) * (2 * steps + 2)
        if (
            not (gap > config.max_completeness_gap)
            or steps * 2 > config.max_steps
            or spent + more > config.max_evaluations
        ):
            return attribution
        steps *= 2


def _integrated_gradients(case, subject, x, classes, n_steps: int) -> Attribution:
    device = subject.device
    out, gaps, diffs, scales = [], [], [], []
    rows = _rows(case)
    for part in chunks(len(x), rows):
        xs = x[part].to(device)
        bs = case.baselines(xs, hold_blind=True)
        target = targets_of(None if classes is None else classes[part], device)
        with quiet_library_notes():
            if case.space.modality == "text":
                method = LayerIntegratedGradients(
                    subject.score, layer_of(subject.module, case.layer)
                )
                attr = method.attribute(
                    xs, baselines=bs, target=target, n_steps=n_steps,
                    internal_batch_size=max(rows, len(xs)),
                ).sum(dim=-1)  # fmt: skip
            else:
                attr = IntegratedGradients(subject.score).attribute(
                    xs, baselines=bs, target=target, n_steps=n_steps,
                    internal_batch_size=max(rows, len(xs)),
                )  # fmt: skip
        values = to_numpy(attr)
        gap, diff, scale = _gap(subject, xs, bs, None if classes is None else classes[part], values)
        out.append(values)
        gaps.append(gap)
        diffs.append(diff)
        scales.append(scale)
    return Attribution(
        np.concatenate(out),
        np.concatenate(gaps),
        np.concatenate(diffs),
        np.concatenate(scales),
        steps=n_steps,
    )


def saliency(case, subject, x, classes, config, seed) -> Attribution:
    """The absolute gradient of the explained output (Simonyan et al., 2014)."""
    device = subject.device
    out = []
    for part in chunks(len(x), _rows(case)):
        xs = x[part].to(device).clone().requires_grad_(True)
        with quiet_library_notes():
            attr = Saliency(subject.score).attribute(
                xs, target=targets_of(None if classes is None else classes[part], device)
            )
        out.append(to_numpy(attr))
    return Attribution(np.concatenate(out))


def smoothgrad(case, subject, x, classes, config, seed) -> Attribution:
    """Saliency averaged over noisy copies of the input (captum's NoiseTunnel)."""
    device = subject.device
    n_noise = config.n_noise_samples
    held = _held_forward(case, subject)
    out = []
    with seeded(seed, device):
        for part in chunks(len(x), max(1, _rows(case) // n_noise)):
            xs = x[part].to(device).clone().requires_grad_(True)
            with quiet_library_notes():
                attr = NoiseTunnel(Saliency(held or subject.score)).attribute(
                    xs,
                    additional_forward_args=None if held is None else (xs.detach(),),
                    nt_type="smoothgrad",
                    nt_samples=n_noise,
                    nt_samples_batch_size=max(1, _rows(case) // len(xs)),
                    stdevs=config.noise_level * noise_scale(case),
                    target=targets_of(None if classes is None else classes[part], device),
                )
            out.append(to_numpy(attr))
    return Attribution(np.concatenate(out))


def deeplift(case, subject, x, classes, config, seed) -> Attribution:
    """DeepLift (rescale rule) from the Case's baseline."""
    device = subject.device
    out, gaps, diffs, scales = [], [], [], []
    module = subject.as_module()
    for part in chunks(len(x), _rows(case)):
        xs = x[part].to(device)
        bs = case.baselines(xs, hold_blind=True)
        cls = None if classes is None else classes[part]
        with quiet_library_notes():
            attr = DeepLift(module).attribute(xs, baselines=bs, target=targets_of(cls, device))
        values = to_numpy(attr)
        gap, diff, scale = _gap(subject, xs, bs, cls, values)
        out.append(values)
        gaps.append(gap)
        diffs.append(diff)
        scales.append(scale)
    return Attribution(
        np.concatenate(out), np.concatenate(gaps), np.concatenate(diffs), np.concatenate(scales)
    )


def gradient_shap(case, subject, x, classes, config, seed) -> Attribution:
    """GradientSHAP (expected gradients) against the Case's background sample."""
    device = subject.device
    n_noise = config.n_noise_samples
    background = case.background.to(device)
    held = _held_forward(case, subject)
    out = []
    with seeded(seed, device):
        for part in chunks(len(x), max(1, _rows(case) // n_noise)):
            xs = x[part].to(device)
            with quiet_library_notes():
                attr = GradientShap(held or subject.score).attribute(
                    xs,
                    additional_forward_args=None if held is None else (xs,),
                    baselines=background,
                    n_samples=n_noise,
                    target=targets_of(None if classes is None else classes[part], device),
                )
            out.append(to_numpy(attr))
    values = np.concatenate(out)
    if held is not None:
        return Attribution(values)  # its expectation runs over held backgrounds: not measured
    # Completeness holds in expectation: against the background's mean output.
    with torch.no_grad():
        background_out = subject.score(background)
        x_out = subject.score(x.to(device))
    if subject.has_classes:
        cls = classes.to(x_out.device)
        diff_t = x_out.gather(1, cls[:, None])[:, 0] - background_out.mean(dim=0)[cls]
    else:
        diff_t = x_out - background_out.mean()
    diff = to_numpy(diff_t).astype(np.float64)
    gap = values.reshape(len(values), -1).sum(axis=1) - diff
    return Attribution(values, gap, diff)


def occlusion(case, subject, x, classes, config, seed) -> Attribution:
    """Occlusion: square windows of images set to black, or single tokens set to the
    unknown token (captum's Occlusion / FeatureAblation)."""
    device = subject.device
    out = []
    per_eval = max(1, _rows(case) // max(1, len(x)))
    for part in chunks(len(x), _rows(case)):
        xs = x[part].to(device)
        target = targets_of(None if classes is None else classes[part], device)
        with quiet_library_notes():
            if case.space.modality == "text":
                attr = (
                    FeatureAblation(subject.score)
                    .attribute(
                        xs,
                        baselines=case.baselines(xs),
                        target=target,
                        feature_mask=token_mask(xs),
                        perturbations_per_eval=per_eval,
                    )
                    .float()
                )
            else:
                c = xs.shape[1]
                w = min(config.occlusion_window, *xs.shape[2:])
                attr = Occlusion(subject.score).attribute(
                    xs,
                    sliding_window_shapes=(c, w, w),
                    strides=(c, w, w),
                    baselines=case.target.input_range[0],
                    target=target,
                    perturbations_per_eval=per_eval,
                )
        out.append(to_numpy(attr))
    return Attribution(np.concatenate(out))


def token_mask(ids: torch.Tensor) -> torch.Tensor:
    """One feature per real token; all padding shares one extra feature (ablating padding
    with padding changes nothing, so it costs one evaluation, not one per position)."""
    positions = torch.arange(ids.shape[1], device=ids.device).expand_as(ids)
    longest = int((ids != 0).sum(dim=1).max()) if len(ids) else 0
    last = int(positions.masked_fill(ids == 0, -1).max()) + 1
    return torch.where(ids != 0, positions, torch.full_like(positions, max(longest, last)))


def feature_ablation(case, subject, x, classes, config, seed) -> Attribution:
    """Each logical feature (a categorical one as a whole) set to the reference row."""
    device = subject.device
    per_eval = max(1, _rows(case) // max(1, len(x)))
    out = []
    for part in chunks(len(x), _rows(case)):
        xs = x[part].to(device)
        with quiet_library_notes():
            attr = FeatureAblation(subject.score).attribute(
                xs,
                baselines=case.baselines(xs),
                target=targets_of(None if classes is None else classes[part], device),
                feature_mask=case.space.captum_mask(len(xs)).to(device),
                perturbations_per_eval=per_eval,
            )
        # captum gives every column of a feature the feature's effect; keep one copy.
        scores = np.stack([to_numpy(attr)[:, cols[0]] for cols in case.space.groups], axis=1)
        out.append(case.space.spread(scores))
    return Attribution(np.concatenate(out).astype(np.float32))


def grad_cam(case, subject, x, classes, config, seed) -> Attribution:
    """Grad-CAM on the detected (or chosen) conv layer, upsampled to the input size."""
    device = subject.device
    layer = layer_of(subject.module, case.layer)
    out = []
    for part in chunks(len(x), _rows(case)):
        xs = x[part].to(device)
        with quiet_library_notes():
            cam = LayerGradCam(subject.score, layer).attribute(
                xs,
                target=targets_of(None if classes is None else classes[part], device),
                relu_attributions=True,
            )
        cam = LayerAttribution.interpolate(cam, tuple(xs.shape[2:]), interpolate_mode="bilinear")
        c = xs.shape[1]
        out.append(to_numpy(cam.expand(-1, c, -1, -1) / c))
    return Attribution(np.concatenate(out))


def needs_conv_layer(case: Case) -> str | None:
    return None if case.layer is not None else "the model has no Conv2d layer to hook"


def no_recurrent_layers(case: Case) -> str | None:
    if has_recurrent_layers(case.subject.module):
        return "DeepLift's rules do not cover recurrent layers"
    return None


def n_windows(case: Case, window: int) -> int:
    _, h, w = case.space.input_shape
    window = min(window, h, w)
    return (-(-(h - window) // window) + 1) * (-(-(w - window) // window) + 1)  # as captum
