"""Global importance of tabular features, how much of it falls on sensitive ones, and
which features stand in for them (:mod:`.proxies`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import FeaturePermutation

from deepaudit.audit.explain.methods.base import quiet_library_notes, to_numpy
from deepaudit.audit.explain.proxies import proxy_rows
from deepaudit.audit.explain.registry import all_methods
from deepaudit.audit.explain.subject import seeded

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.results import FamilyResult


def importance_share(scores: np.ndarray) -> np.ndarray:
    """Each feature's share of the total mean absolute attribution (features a method
    cannot see, NaN, stay NaN and do not count in the total)."""
    scores = np.abs(np.asarray(scores, dtype=np.float64))
    seen = np.isfinite(scores)
    counts = seen.sum(axis=0)
    magnitude = np.where(
        counts > 0, np.where(seen, scores, 0.0).sum(axis=0) / np.maximum(counts, 1), np.nan
    )
    total = np.nansum(magnitude)
    if not np.isfinite(total) or total <= 0:
        return np.full(magnitude.shape, np.nan)
    return magnitude / total


def permutation_importance(case: Case, n: int, seed: int) -> np.ndarray:
    """Mean absolute change of the explained output when a feature (a categorical one as a
    whole) is permuted across ``n`` samples (captum's FeaturePermutation): a global
    measure of how much the model relies on each feature."""
    target = case.target
    subject = case.subject
    rng = target.sample_rng(2)
    rows = np.sort(rng.choice(target.n_samples, min(n, target.n_samples), replace=False))
    x = target.data[torch.from_numpy(rows)].to(subject.device)
    with torch.no_grad():
        out = subject.score(x)
    classes = out.argmax(dim=1) if subject.has_classes else None
    mask = case.space.captum_mask(1).to(subject.device)
    with seeded(seed, subject.device), quiet_library_notes():
        attr = FeaturePermutation(subject.score).attribute(
            x, target=classes, feature_mask=mask, perturbations_per_eval=1
        )
    attr = to_numpy(attr)
    scores = np.stack([attr[:, cols[0]] for cols in case.space.groups], axis=1)
    return np.abs(scores).mean(axis=0)


def sensitive_features(
    feature_names: Sequence[str], sensitive_names: Sequence[str], chosen: Sequence[str] | None
) -> dict[str, str]:
    """Sensitive attribute -> the model feature that carries it.

    ``chosen`` (from the config) wins; otherwise a feature matches an attribute with the
    same name, or one the attribute's name extends (``age_band`` -> ``age``).
    """
    if chosen is not None:
        return {name: name for name in chosen}
    found = {}
    for attribute in sensitive_names:
        if attribute in feature_names:
            found[attribute] = attribute
            continue
        stems = [f for f in feature_names if attribute.startswith(f + "_")]
        if stems:
            found[attribute] = max(stems, key=len)
    return found


def tabular_results(
    result: FamilyResult, case: Case, runs: dict, config: ExplainConfig, seed: int
) -> None:
    """Add global importance (with permutation importance) and the share on sensitive
    features to ``result``."""
    methods = all_methods()
    shares = {name: importance_share(run["scores"]) for name, run in runs.items()}
    if config.permutation_samples:
        before = case.target.n_evaluations
        started = time.perf_counter()
        permutation = permutation_importance(case, config.permutation_samples, seed)
        total = permutation.sum()
        shares["permutation"] = (
            permutation / total if total > 0 else np.full(len(permutation), np.nan)
        )
        result.metrics["permutation_seconds"] = time.perf_counter() - started
        result.metrics["permutation_evaluations"] = case.target.n_evaluations - before
    mapping = sensitive_features(
        case.space.names, case.target.sensitive_names, config.sensitive_features
    )
    sensitive = set(mapping.values())
    result.tables["global_importance"] = [
        {
            "feature": feature,
            "kind": kind,
            "sensitive": feature in sensitive,
            **{name: float(share[g]) for name, share in shares.items()},
        }
        for g, (feature, kind) in enumerate(zip(case.space.names, case.space.kinds, strict=True))
    ]
    # Shares are read from methods that see every feature (a blind method's total is
    # incomplete), perturbation methods first.
    preference = ["kernel_shap", "feature_ablation", "lime", "permutation", *runs]
    order = [m for m in dict.fromkeys(preference) if m in shares and np.isfinite(shares[m]).all()]
    rows = []
    for attribute, feature in mapping.items():
        g = case.space.names.index(feature)
        for method in order:
            share = float(shares[method][g])
            if not np.isfinite(share):
                continue
            label = methods[method].label if method in methods else "Permutation importance"
            rows.append(
                {
                    "attribute": attribute,
                    "feature": feature,
                    "method": method,
                    "label": label,
                    "share": share,
                }
            )
            result.metrics.setdefault(f"share[{feature}]", share)
    result.tables["sensitive_share"] = rows
    sensitive_frame = case.target.sensitive
    if order and sensitive_frame is not None and len(sensitive_frame.columns):
        primary = order[0]
        label = methods[primary].label if primary in methods else "Permutation importance"
        result.tables["proxies"] = proxy_rows(
            case.target.data.numpy(),
            list(case.space.names),
            case.space.groups,
            case.space.kinds,
            sensitive_frame,
            mapping,
            shares,
            primary,
            label,
            config.confidence,
            case.target.sample_seed,  # the halves that cross-fit are a split of the data
        )
    blind = [n for n, b in zip(case.space.names, case.blind, strict=True) if b]
    gradient_runs = [n for n in runs if methods[n].gradient]
    if blind and gradient_runs:
        result.notes.append(
            "Gradient methods ("
            + ", ".join(methods[n].label for n in gradient_runs)
            + ") cannot attribute to integer-coded categorical features ("
            + ", ".join(blind)
            + "): their share is left blank and perturbation methods speak for them."
        )
