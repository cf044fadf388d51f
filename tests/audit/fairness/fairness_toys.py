"""Synthetic targets with planted (or no) group effects, for the fairness tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.fairness import FairnessConfig


def linear_model(weights: list[float], bias: float = 0.0) -> nn.Module:
    """A one-logit linear model with fixed weights."""
    model = nn.Linear(len(weights), 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([weights], dtype=torch.float32))
        model.bias.fill_(bias)
    return model


def group_target(
    seed: int,
    n: int = 2000,
    flip_share: float = 0.0,
    group_weight: float = 0.0,
    proxy_weight: float = 0.0,
) -> da.Target:
    """Features x0 (the signal), proxy, group (0/1 for groups a/b); labels from x0.

    ``flip_share`` of group b's labels are flipped (a planted label bias); the model's
    logit is ``2 x0 + group_weight * group + proxy_weight * proxy``.
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b"]), size=n)
    x = np.zeros((n, 3), dtype=np.float32)
    x[:, 0] = rng.normal(size=n)
    x[:, 2] = group == "b"
    x[:, 1] = x[:, 2] + rng.normal(scale=0.1, size=n)  # a proxy of the group
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(np.int64)
    flip = (group == "b") & (rng.random(n) < flip_share)
    y[flip] = 1 - y[flip]
    return da.Target(
        linear_model([2.0, proxy_weight, group_weight]),
        kind="classifier",
        modality="tabular",
        data=x,
        labels=y,
        class_names=["no", "yes"],
        sensitive={"group": group},
        feature_names=["x0", "proxy", "group"],
        categorical_features=["group"],
        device="cpu",
    )


def audit(target: da.Target, seed: int = 0, sample_seed: int = 0, **options) -> da.AuditBundle:
    config = da.AuditConfig(
        families=["fairness"],
        options={"fairness": FairnessConfig(**options)},
        seed=seed,
        sample_seed=sample_seed,
        progress=False,
    )
    return da.run_audit(target, config)


def finding(bundle, check: str):
    """The one finding of ``check`` in a bundle or a fairness FamilyResult."""
    result = bundle["fairness"] if isinstance(bundle, da.AuditBundle) else bundle
    found = [f for f in result.findings if f.check == check]
    assert len(found) == 1, [f.check for f in result.findings]
    return found[0]
