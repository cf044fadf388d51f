"""Proxies: features that stand in for a sensitive attribute the model is not given.

A model that never sees ``sex`` can still decide by it through a feature that predicts
it (``relationship`` holds "Husband" and "Wife"). For every sensitive attribute and
every other feature, this measures how well the feature alone predicts the attribute
(the ROC AUC of one group against the rest, the best over groups; categorical features
through their groups' shares, cross-fitted on two halves so that a feature of many
categories cannot predict by memorising), with the Hanley–McNeil interval, beside the
feature's share of the attribution. A feature that predicts the attribute well and
carries attribution is a proxy: the finding names both, without the user naming either.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def hanley_mcneil(auc: float, n_pos: int, n_neg: int, confidence: float) -> tuple[float, float]:
    """The interval of an AUC from its standard error (Hanley & McNeil, 1982)."""
    if n_pos < 1 or n_neg < 1 or not math.isfinite(auc):
        return math.nan, math.nan
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.5, auc - half), min(1.0, auc + half)


def _encoded(values: np.ndarray, member: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row's category replaced by the group's share in that category, learnt on the
    other half of the rows (cross-fitting: an unseen category gets the overall share)."""
    half = rng.random(len(values)) < 0.5
    out = np.empty(len(values))
    for learn, apply in ((half, ~half), (~half, half)):
        shares = pd.Series(member[learn]).groupby(values[learn]).mean()
        fallback = member[learn].mean() if learn.any() else 0.5
        out[apply] = pd.Series(values[apply]).map(shares).fillna(fallback).to_numpy()
    return out


def predictive_auc(
    values: np.ndarray, member: np.ndarray, categorical: bool, rng: np.random.Generator
) -> float:
    """How well ``values`` alone tell members of a group from the rest: the ROC AUC of the
    feature (or of its cross-fitted category shares), whichever way round is better."""
    if member.all() or not member.any():
        return math.nan
    score = _encoded(values, member, rng) if categorical else values.astype(np.float64)
    auc = float(roc_auc_score(member, score))
    return auc if categorical else max(auc, 1.0 - auc)


def feature_columns(data: np.ndarray, groups: list[list[int]], kinds: list[str]) -> list:
    """One column per logical feature: its value, its category code, or (one-hot) the
    index of its hot column."""
    return [
        data[:, cols].argmax(axis=1) if kind == "onehot" else data[:, cols[0]]
        for cols, kind in zip(groups, kinds, strict=True)
    ]


def proxy_rows(
    data: np.ndarray,
    names: list[str],
    groups: list[list[int]],
    kinds: list[str],
    sensitive: pd.DataFrame,
    own: dict[str, str],
    shares: dict[str, np.ndarray],
    method: str,
    label: str,
    confidence: float,
    seed: int,
) -> list[dict]:
    """Per sensitive attribute and every feature but the one that is the attribute
    (``own``): how well it predicts the attribute, and its share of the attribution
    under ``method``; the strongest predictors first."""
    rng = np.random.default_rng([seed, 11])
    columns = feature_columns(data, groups, kinds)
    rows = []
    for attribute in sensitive.columns:
        labels = sensitive[attribute].astype(str).to_numpy()
        values = sorted(set(labels))
        if len(values) < 2:
            continue
        # One group against the rest; with two groups one side says it all.
        candidates = values[:1] if len(values) == 2 else values
        found = []
        for g, (feature, column, kind) in enumerate(zip(names, columns, kinds, strict=True)):
            if feature == own.get(attribute):
                continue
            best = (math.nan, None)
            for value in candidates:
                member = labels == value
                auc = predictive_auc(column, member, kind != "numeric", rng)
                if math.isfinite(auc) and not (auc <= best[0]):
                    best = (auc, value)
            auc, value = best
            if value is None:
                continue
            member = labels == value
            low, high = hanley_mcneil(auc, int(member.sum()), int((~member).sum()), confidence)
            found.append(
                {
                    "attribute": str(attribute),
                    "feature": feature,
                    "group": str(value),
                    "auc": auc,
                    "auc_low": low,
                    "auc_high": high,
                    "share": float(shares[method][g]),
                    "method": method,
                    "label": label,
                }
            )
        rows += sorted(found, key=lambda r: -r["auc"])
    return rows
