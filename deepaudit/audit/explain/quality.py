"""How far to trust an attribution: faithfulness, sanity, stability and agreement.

- Faithfulness: deletion and insertion curves (Petsiuk et al., 2018) over the features
  in attribution order, with their areas; captum's ``infidelity`` under random feature
  removal (Yeh et al., 2019) and ``sensitivity_max``.
- Sanity: the model-parameter randomisation test (Adebayo et al., 2018), the rank
  correlation between maps of the trained model and of copies with re-initialised layers.
- Stability: rank agreement of a stochastic method's maps across seeds.
- Agreement: rank correlation and top-k overlap between two methods' maps.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.metrics import infidelity, sensitivity_max
from scipy.stats import rankdata

from deepaudit.audit.explain.methods.base import quiet_library_notes, to_numpy
from deepaudit.audit.explain.subject import parameterised_layers, randomised_copy

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.audit.explain.methods import MethodSpec
    from deepaudit.audit.explain.subject import Subject

# -- rank statistics ------------------------------------------------------------------


def rank_agreement(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Spearman rank correlation of each row of ``a`` with the same row of ``b``.

    Only features where ``valid`` is true count (padding tokens and features a method
    cannot see are left out). A row that is constant in either map gives NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    valid = np.ones(a.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    valid = valid & np.isfinite(a) & np.isfinite(b)
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        x, y = a[i, valid[i]], b[i, valid[i]]
        if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        out[i] = np.corrcoef(rankdata(x), rankdata(y))[0, 1]
    return out


def top_k_overlap(
    a: np.ndarray, b: np.ndarray, k: int, valid: np.ndarray | None = None
) -> np.ndarray:
    """Share of the ``k`` features of largest magnitude that two maps have in common."""
    a = np.abs(np.asarray(a, dtype=np.float64))
    b = np.abs(np.asarray(b, dtype=np.float64))
    valid = np.ones(a.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    valid = valid & np.isfinite(a) & np.isfinite(b)
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        idx = np.nonzero(valid[i])[0]
        kk = min(k, len(idx))
        if kk == 0:
            continue
        top_a = set(idx[np.argsort(-a[i, idx], kind="stable")[:kk]])
        top_b = set(idx[np.argsort(-b[i, idx], kind="stable")[:kk]])
        out[i] = len(top_a & top_b) / kk
    return out


def nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


# -- faithfulness -----------------------------------------------------------------------


def _evaluate(
    case: Case, subject: Subject, inputs: torch.Tensor, classes: torch.Tensor | None
) -> np.ndarray:
    out = []
    rows = max(1, case.target.batch_size)
    for start in range(0, len(inputs), rows):
        part = slice(start, start + rows)
        out.append(
            to_numpy(subject.output(inputs[part], None if classes is None else classes[part]))
        )
    return np.concatenate(out).astype(np.float64)


def deletion_insertion(
    case: Case,
    subject: Subject,
    inputs: torch.Tensor,
    classes: torch.Tensor | None,
    scores: np.ndarray,
    n_steps: int,
) -> dict[str, np.ndarray]:
    """Deletion and insertion curves of each sample and their areas.

    Features are taken in decreasing attribution order. Deletion sets the first
    fraction of them to the baseline and follows the explained output (probability of
    the class, anomaly score, P(real)): a faithful map makes it fall fast (small area).
    Insertion starts from the baseline and restores them: it should rise fast (large area).
    Features that cannot be removed (padding) and those a map does not score (NaN) come last.
    """
    n, g = scores.shape
    removable = case.space.removable(inputs)
    steps = np.linspace(0.0, 1.0, n_steps + 1)
    delete = np.zeros((n, n_steps + 1, g), dtype=bool)
    for i in range(n):
        candidates = np.nonzero(removable[i])[0]
        s = np.nan_to_num(scores[i, candidates], nan=-np.inf)
        order = candidates[np.argsort(-s, kind="stable")]
        for k, fraction in enumerate(steps):
            delete[i, k, order[: round(fraction * len(order))]] = True
    insert_keep = delete
    insert_remove = removable[:, None, :] & ~insert_keep
    masks = torch.from_numpy(np.concatenate([delete, insert_remove], axis=1).reshape(-1, g))
    expanded = inputs.repeat_interleave(2 * (n_steps + 1), dim=0)
    perturbed = case.space.replace(expanded, case.baselines(expanded), masks)
    cls = None if classes is None else classes.repeat_interleave(2 * (n_steps + 1))
    values = _evaluate(case, subject, perturbed, cls).reshape(n, 2, n_steps + 1)
    deletion, insertion = values[:, 0], values[:, 1]
    return {
        "deletion": deletion,
        "insertion": insertion,
        "deletion_auc": np.trapezoid(deletion, steps, axis=1),
        "insertion_auc": np.trapezoid(insertion, steps, axis=1),
    }


def _removal_units(case: Case, window: int) -> torch.Tensor:
    """The unit each feature is removed with in infidelity: square cells of pixels,
    single tokens, logical features."""
    if case.space.modality != "image":
        return torch.arange(case.space.n_features)
    cell = max(1, window // 2)
    _, h, w = case.space.input_shape
    rows = torch.arange(h) // cell
    cols = torch.arange(w) // cell
    return (rows[:, None] * (-(-w // cell)) + cols[None, :]).reshape(-1)


def removal_infidelity(
    case: Case,
    subject: Subject,
    inputs: torch.Tensor,
    classes: torch.Tensor | None,
    attributions: np.ndarray,
    n_perturbations: int,
    seed: int,
    window: int,
    p_remove: float = 0.25,
) -> np.ndarray:
    """captum's infidelity under random removal of features to the baseline.

    Each perturbation removes every unit (a cell of pixels, a token, a feature) with
    probability ``p_remove``; infidelity is the mean squared difference between the
    attributions of the removed elements and the output change, after the best
    rescaling of the attributions (``normalize=True``). Lower is better.
    """
    device = subject.device
    units = _removal_units(case, window)
    n_units = int(units.max()) + 1
    generator = torch.Generator().manual_seed(int(seed))

    def perturb(x: torch.Tensor, baselines: torch.Tensor):
        drop = torch.rand(len(x), n_units, generator=generator) < p_remove
        features = drop[:, units].to(x.device)
        if case.space.modality == "text":
            features &= x != 0
        mask = case.space.to_input_mask(features).expand_as(x)
        return mask.to(torch.float32), torch.where(mask, baselines, x)

    x = inputs.to(device)
    # captum counts expanded rows here, between one copy and every copy of the inputs.
    rows = min(max(case.target.batch_size, len(x)), len(x) * n_perturbations)
    with quiet_library_notes():
        values = infidelity(
            subject.score,
            perturb,
            x,
            torch.as_tensor(attributions, dtype=torch.float32, device=device),
            baselines=case.baselines(x),
            target=None if classes is None else classes.to(device),
            n_perturb_samples=n_perturbations,
            max_examples_per_batch=rows,
            normalize=True,
        )
    return to_numpy(values).astype(np.float64)


def max_sensitivity(
    case: Case,
    subject: Subject,
    spec: MethodSpec,
    config: ExplainConfig,
    inputs: torch.Tensor,
    classes: torch.Tensor | None,
    seed: int,
) -> np.ndarray:
    """captum's ``sensitivity_max``: the largest relative change of a method's map when
    the input moves within a small L∞ ball (``sensitivity_radius`` of the input scale;
    categorical columns stay put). Lower is better; a stochastic method reuses its seed,
    so only the input moves."""
    device = subject.device
    scale = _perturbation_scale(case).to(device)
    lo, hi = case.target.input_range
    generator = torch.Generator().manual_seed(int(seed))

    def perturb(x: torch.Tensor) -> torch.Tensor:
        noise = torch.rand(x.shape, generator=generator).to(device) * 2 - 1
        moved = x + noise * config.sensitivity_radius * scale
        return moved.clamp(lo, hi) if case.space.modality == "image" else moved

    def compute(x: torch.Tensor, classes: torch.Tensor | None) -> np.ndarray:
        with torch.enable_grad():  # captum calls us under no_grad; gradient methods need it
            return spec.compute(case, subject, x, classes, config, seed).values

    def explain(x, target=None):
        # captum passes and expects a tuple of tensors on its first call.
        single = x[0] if isinstance(x, tuple) else x
        classes = None if target is None else target.cpu().reshape(-1)
        if classes is not None and len(classes) == 1:  # captum keeps a single target as is
            classes = classes.expand(len(single))
        if spec.stochastic:
            # One sample at a time, each with the same seed: only the input moves.
            values = np.concatenate(
                [
                    compute(single[i : i + 1], None if classes is None else classes[i : i + 1])
                    for i in range(len(single))
                ]
            )
        else:
            values = compute(single, classes)
        values = torch.as_tensor(values, dtype=torch.float32, device=device)
        return (values,) if isinstance(x, tuple) else values

    with quiet_library_notes():
        values = sensitivity_max(
            explain,
            inputs.to(device),
            perturb_func=perturb,
            n_perturb_samples=config.n_sensitivity,
            target=None if classes is None else classes.to(device),
        )
    return to_numpy(values).astype(np.float64)


def _perturbation_scale(case: Case) -> torch.Tensor:
    if case.space.modality == "image":
        lo, hi = case.target.input_range
        return torch.tensor(hi - lo)
    scale = case.target.data.float().std(dim=0)
    for cols, kind in zip(case.space.groups, case.space.kinds, strict=True):
        if kind != "numeric":
            scale[cols] = 0.0
    return scale


# -- sanity and stability ---------------------------------------------------------------


def randomisation_stages(module: torch.nn.Module, n_stages: int) -> list[int]:
    """How many layers (from the output side) each cascading stage re-initialises: the top
    layer first, all of them last."""
    total = len(parameterised_layers(module))
    if total == 0 or n_stages == 0:
        return []
    if n_stages == 1:
        return [total]
    return sorted({round(v) for v in np.linspace(1, total, n_stages)})


def randomisation_test(
    case: Case,
    spec: MethodSpec,
    config: ExplainConfig,
    original: np.ndarray,
    n: int,
    seed: int,
    attribute: Callable[..., np.ndarray] | None = None,
) -> tuple[list[dict], np.ndarray]:
    """The rank correlation between ``original`` (the first ``n`` samples' maps) and the
    maps of copies of the network with its top layers re-initialised (one row per stage),
    and, per sample, that correlation once every layer is re-initialised, averaged over
    ``randomisation_repeats`` independently re-initialised copies (what the sanity
    verdict reads, with its interval over the samples).

    ``attribute(subject, inputs, classes) -> feature-space scores`` overrides the method
    (tests use it to audit a method that ignores the model).
    """
    rows = []
    subject = case.subject
    inputs = case.inputs[:n]
    classes = None if case.classes is None else case.classes[:n]
    valid = case.space.removable(inputs)
    names = parameterised_layers(subject.module)
    stages = randomisation_stages(subject.module, config.randomisation_stages)

    def similarity_to(copy) -> tuple[np.ndarray, np.ndarray]:
        if attribute is None:
            values = spec.compute(case, copy, inputs, classes, config, seed).values
            scores = case.space.scores(values)
        else:
            scores = attribute(copy, inputs, classes)
        return (
            rank_agreement(original[:n], scores, valid),
            rank_agreement(np.abs(original[:n]), np.abs(scores), valid),
        )

    last = np.full(n, np.nan)
    for k in stages:
        similarity, similarity_abs = similarity_to(
            subject.with_module(randomised_copy(subject.module, k, seed + k))
        )
        if k == stages[-1]:
            repeats = [similarity]
            for r in range(1, config.randomisation_repeats):
                again, _ = similarity_to(
                    subject.with_module(randomised_copy(subject.module, k, seed + k + 1000 * r))
                )
                repeats.append(again)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                last = np.nanmean(np.stack(repeats), axis=0)
        rows.append(
            {
                "method": spec.name,
                "layers_randomised": k,
                "from_layer": names[len(names) - k] or "(root)",
                "rank_correlation": nanmean(last if k == stages[-1] else similarity),
                "rank_correlation_abs": nanmean(similarity_abs),
            }
        )
    return rows, last


def stability_across_seeds(
    case: Case,
    spec: MethodSpec,
    config: ExplainConfig,
    original: np.ndarray,
    n: int,
    seed: int,
) -> float:
    """Per sample (of the first ``n``), the mean pairwise rank agreement of a stochastic
    method's maps over ``n_seeds`` seeds (the audit's seed and the next ones)."""
    inputs = case.inputs[:n]
    classes = None if case.classes is None else case.classes[:n]
    valid = case.space.removable(inputs)
    maps = [original[:n]]
    for s in range(1, config.n_seeds):
        values = spec.compute(case, case.subject, inputs, classes, config, seed + s).values
        maps.append(case.space.scores(values))
    pairs = np.stack([rank_agreement(a, b, valid) for a, b in itertools.combinations(maps, 2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(pairs, axis=0)
