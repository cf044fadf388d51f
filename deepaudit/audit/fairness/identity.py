"""Counterfactual identity-term swaps for text classifiers.

Two sources of sentences, both from the term lists the fairness family ships
(:mod:`.terms`, ``deepaudit/audit/fairness/data/identity_terms.json``):

- templates: every template and adjective filled with every term of an attribute;
  a pair of terms is compared on the same template and adjective, so the only
  difference between the two sentences is the term;
- the evaluation data: samples holding one term of a swap pair (gender: she/he,
  woman/man, ...) have it swapped for the other.

For each term pair: the share of flipped predictions and the mean score shift
(P(class 1) of the second term minus the first; total-variation distance of the class
probabilities for a multiclass model), with a bootstrap interval over sentences.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import torch

from deepaudit.audit import text
from deepaudit.audit.fairness import terms as identity_terms
from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.metrics import wilson_interval
from deepaudit.audit.fairness.simultaneous import Contrasts, critical_value
from deepaudit.audit.fairness.stats import (
    absolute_interval,
    bootstrap_se,
    percentile_interval,
    resample_means,
)
from deepaudit.audit.target import Target


@dataclass
class IdentityTables:
    pair_rows: list[dict] = field(default_factory=list)
    group_rows: list[dict] = field(default_factory=list)
    data_rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _probabilities(target: Target, ids: np.ndarray) -> np.ndarray:
    return target.predict_proba(torch.from_numpy(ids))


def _shift(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Signed shift of P(class 1) (binary) or total-variation distance (multiclass)."""
    if p_a.shape[-1] == 2:
        return p_b[..., 1] - p_a[..., 1]
    return 0.5 * np.abs(p_b - p_a).sum(axis=-1)


def template_swaps(
    target: Target, options: FairnessConfig, rng: np.random.Generator, tables: IdentityTables
) -> None:
    """Score every template sentence and compare each pair of terms (rows, p-values)."""
    data = identity_terms.load_identity_terms()
    width = int(target.data.shape[1])
    templates = [t["text"] for t in data["templates"]]
    adjectives = [a for s in options.sentiments for a in data["adjectives"][s]]
    instances = list(itertools.product(range(len(templates)), adjectives))
    n_inst = len(instances)
    known = set(target.vocab)
    for attribute in options.identity_attributes:
        groups = data["attributes"][attribute]
        terms = [(group, term) for group, words in groups.items() for term in words]
        sentences = [
            templates[t].format(term=term, adjective=adjective)
            for _, term in terms
            for t, adjective in instances
        ]  # whole sentences encoded: a term may become several pieces of a tokenizer
        ids = target.encode_texts(sentences, width).reshape(len(terms), n_inst, width)
        proba = _probabilities(target, ids.reshape(-1, width)).reshape(len(terms), n_inst, -1)
        pred = proba.argmax(axis=-1)
        index = {term: i for i, (_, term) in enumerate(terms)}
        pairs = _pairs(attribute, terms, data.get("swap_pairs", {}))
        usable, skipped = [], []
        for a, b in pairs:
            if np.array_equal(ids[index[a]], ids[index[b]]):
                skipped.append(f"{a}/{b}")
            else:
                usable.append((a, b))
        if skipped:
            tables.notes.append(
                f"{attribute}: {len(skipped)} term pairs read identically by the model "
                f"(terms outside its vocabulary) were not compared: {', '.join(skipped[:8])}"
                + (" ..." if len(skipped) > 8 else "")
            )
        boot_idx = rng.integers(0, n_inst, size=(options.n_bootstrap, n_inst))
        first = len(tables.pair_rows)
        draws = []
        for a, b in usable:
            ia, ib = index[a], index[b]
            shifts = _shift(proba[ia], proba[ib])
            value = float(shifts.mean())
            row = {
                "attribute": attribute,
                "source": "templates",
                "term_a": a,
                "term_b": b,
                "group_a": terms[ia][0],
                "group_b": terms[ib][0],
                "in_vocab": _in_vocab(target, a, known) and _in_vocab(target, b, known),
                "n": n_inst,
                "flip_rate": float(np.mean(pred[ia] != pred[ib])),
                "mean_shift": value,
                "mean_abs_shift": float(np.abs(shifts).mean()),
                "max_abs_shift": float(np.abs(shifts).max()),
            }
            if options.n_bootstrap > 0:
                draws.append(shifts[boot_idx].mean(axis=1))
            tables.pair_rows.append(row)
        if draws:
            _pair_intervals(tables.pair_rows[first:], np.stack(draws, axis=1), options)
        score = proba[..., 1] if proba.shape[-1] == 2 else proba.max(axis=-1)
        for group in groups:
            rows = [i for i, (g, _) in enumerate(terms) if g == group]
            per_instance = score[rows].mean(axis=0)
            row = {
                "attribute": attribute,
                "group": group,
                "terms": ", ".join(terms[i][1] for i in rows),
                "mean_score": float(per_instance.mean()),
                "positive_rate": float(np.mean(pred[rows] == 1)) if proba.shape[-1] == 2 else None,
            }
            if options.n_bootstrap > 0:
                low, high = percentile_interval(
                    per_instance[boot_idx].mean(axis=1), options.confidence
                )
                row.update(mean_score_low=float(low), mean_score_high=float(high))
            tables.group_rows.append(row)


def _pair_intervals(rows: list[dict], draws: np.ndarray, options: FairnessConfig) -> None:
    """Intervals of the pairs' mean shifts (their resamples, B×K, share the sentences
    drawn): simultaneous over the attribute's pairs (``correction="simultaneous"``), or
    each pair's percentile interval alone; and of the shift's size, tested against the
    limit."""
    point = np.array([r["mean_shift"] for r in rows])
    if options.correction == "simultaneous":
        found = Contrasts("difference", point, draws, np.maximum(bootstrap_se(draws), 1e-12))
        c = critical_value(found.t_max(), options.confidence)
        lows, highs = point - c * found.se, point + c * found.se
    else:
        lows, highs = percentile_interval(draws, options.confidence)
    for row, low, high in zip(rows, lows, highs, strict=True):
        abs_low, abs_high = absolute_interval(float(low), float(high))
        row.update(
            mean_shift_low=float(low),
            mean_shift_high=float(high),
            abs_low=abs_low,
            abs_high=abs_high,
            threshold=options.max_score_shift,
        )


def _pairs(attribute: str, terms: list[tuple[str, str]], swap_pairs: dict) -> list[tuple[str, str]]:
    """The file's swap pairs of the attribute, else every pair of terms of two groups."""
    listed = {term for _, term in terms}
    if attribute in swap_pairs:
        return [(a, b) for a, b in swap_pairs[attribute] if a in listed and b in listed]
    return [(a, b) for (ga, a), (gb, b) in itertools.combinations(terms, 2) if ga != gb]


def data_swaps(
    target: Target, options: FairnessConfig, rng: np.random.Generator, tables: IdentityTables
) -> None:
    """Swap the terms of each swap pair inside the evaluation data and compare."""
    data = identity_terms.load_identity_terms()
    index = {t: i for i, t in enumerate(target.vocab)}
    x = target.data
    for attribute, pairs in data.get("swap_pairs", {}).items():
        if attribute not in options.identity_attributes:
            continue
        pooled: list[np.ndarray] = []
        for a, b in pairs:
            if a not in index or b not in index:
                continue
            ia, ib = index[a], index[b]
            has_a = (x == ia).any(dim=1)
            has_b = (x == ib).any(dim=1)
            rows = torch.nonzero(has_a ^ has_b).flatten()
            if len(rows) == 0:
                continue
            original = x[rows]
            swapped = original.clone()
            swapped[original == ia] = ib
            swapped[original == ib] = ia
            p_orig = _probabilities(target, original.numpy())
            p_swap = _probabilities(target, swapped.numpy())
            a_first = has_a[rows].numpy()[:, None]
            p_a = np.where(a_first, p_orig, p_swap)
            p_b = np.where(a_first, p_swap, p_orig)
            shifts = _shift(p_a, p_b)
            flips = (p_a.argmax(1) != p_b.argmax(1)).astype(np.float64)
            pooled.append(np.column_stack([flips, shifts]))
            tables.data_rows.append(_data_row(attribute, a, b, pooled[-1], options, rng))
            tables.data_rows[-1]["sample_ids"] = rows[:10].tolist()
        if len(pooled) > 1:
            tables.data_rows.append(
                _data_row(attribute, "(all pairs)", "", np.concatenate(pooled), options, rng)
            )


def _data_row(
    attribute: str,
    a: str,
    b: str,
    values: np.ndarray,
    options: FairnessConfig,
    rng: np.random.Generator,
) -> dict:
    """Flip rate and mean shift of swapped samples (columns: flip, shift)."""
    flips, shifts = values[:, 0], values[:, 1]
    row = {
        "attribute": attribute,
        "source": "data",
        "term_a": a,
        "term_b": b,
        "n": len(values),
        "flip_rate": float(flips.mean()),
        "mean_shift": float(shifts.mean()),
        "mean_abs_shift": float(np.abs(shifts).mean()),
        "sample_ids": [],
    }
    if options.n_bootstrap > 0:
        boot = resample_means(values, options.n_bootstrap, rng)
        low, high = percentile_interval(boot, options.confidence)
        flip_low, flip_high = wilson_interval(float(flips.mean()), len(flips), options.confidence)
        row.update(
            flip_rate_low=float(flip_low),
            flip_rate_high=float(flip_high),
            mean_shift_low=float(low[1]),
            mean_shift_high=float(high[1]),
        )
    return row


def _in_vocab(target, term: str, known: set[str]) -> bool:
    """Whether the model reads ``term`` without an unknown token."""
    if target.tokenizer is not None:
        unk = getattr(target.tokenizer, "unk_token_id", None)
        ids = target.tokenizer(term, add_special_tokens=False)["input_ids"]
        return bool(ids) and unk not in ids
    return all(t in known for t in text.tokenize(term))
