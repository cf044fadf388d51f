"""Integrated Gradients on every evaluation row, folded into exact aggregates.

The explain family's methods and quality checks study a few samples in depth. This
pass adds the population view: it attributes *every* row (of a streaming target too)
with the same Integrated Gradients the family runs on its samples, batch by batch
through the audit's engine (Ray spreads the batches over workers), and keeps only what
does not grow with rows: per feature (tabular), per pixel (images) or per token id
(text), the sum of absolute and of signed attributions, and the completeness gaps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepaudit.audit.engine import sum_over_rows
from deepaudit.audit.explain.case import Case
from deepaudit.audit.explain.config import ExplainConfig
from deepaudit.audit.explain.methods._captum import integrated_gradients
from deepaudit.audit.explain.subject import Subject
from deepaudit.audit.stream import Batch
from deepaudit.audit.target import Target
from deepaudit.results import FamilyResult

#: Tokens listed in the every-row table of a text model, by mean |attribution|, among
#: those seen at least ``MIN_OCCURRENCES`` times (a word seen once says little).
TOP_TOKENS = 30
MIN_OCCURRENCES = 5


@dataclass
class IntegratedGradientsKernel:
    """IG on one batch, summed: what a worker sends back. Picklable (Ray ships it).

    ``case`` is the explain family's case without its target and subject (the worker
    plugs in its own copy of the model); it carries the baselines and feature space.
    """

    case: Case
    config: ExplainConfig
    seed: int
    vocab_size: int = 0

    def __call__(self, target: Target, batch: Batch) -> dict[str, Any]:
        subject = Subject(target)
        case = dataclasses.replace(self.case, target=target, subject=subject)
        x = batch.x
        classes = None
        if subject.has_classes:
            with torch.no_grad():
                classes = subject.score(x).argmax(dim=1).cpu()
        attribution = integrated_gradients(case, subject, x, classes, self.config, self.seed)
        scores = case.space.scores(attribution.values)  # N×G
        out = {
            "n": len(x),
            "gap_abs_sum": float(np.abs(attribution.gap).sum()),
            "diff_abs_sum": float(np.abs(attribution.output_difference).sum()),
            "scale_sum": float(np.sum(attribution.output_scale)),
        }
        if case.space.modality == "text":
            ids = x.reshape(len(x), -1).numpy().ravel()
            keep = ids != 0
            flat = scores.ravel()[keep]
            out["abs_sum"] = np.bincount(ids[keep], np.abs(flat), minlength=self.vocab_size)
            out["sum"] = np.bincount(ids[keep], flat, minlength=self.vocab_size)
            out["count"] = np.bincount(ids[keep], minlength=self.vocab_size)
        else:
            out["abs_sum"] = np.abs(scores).sum(axis=0)
            out["sum"] = scores.sum(axis=0)
        return out


def every_row_results(
    result: FamilyResult, target: Target, case: Case, config: ExplainConfig, seed: int
) -> None:
    """Attribute every row of ``target`` and add the aggregates to ``result``, with the
    steps Integrated Gradients needed on the explained samples (every batch alike)."""
    steps = result.metrics.get("ig_steps") or config.n_steps
    config = config.replace(n_steps=int(steps), max_steps=int(steps))
    light = dataclasses.replace(
        case,
        target=None,
        subject=None,
        inputs=case.inputs[:0],
        background=case.background[:0],
        classes=None,
        groups=None,
    )
    kernel = IntegratedGradientsKernel(
        light, config, seed, len(target.vocab) if target.vocab is not None else 0
    )
    totals = sum_over_rows(target, kernel, desc="IG on every row")
    n = int(totals["n"])
    result.metrics.update(
        every_row_n=n,
        every_row_ig_steps=int(steps),
        # Read like the samples' gap: against the outputs' own size when that is larger.
        every_row_completeness_gap=totals["gap_abs_sum"]
        / max(totals["diff_abs_sum"], totals["scale_sum"], 1e-12),
    )
    space = case.space
    if space.modality == "text":
        counts = totals["count"]
        seen = np.flatnonzero(counts >= MIN_OCCURRENCES)
        if len(seen) == 0:
            seen = np.flatnonzero(counts)
        mean_abs = totals["abs_sum"][seen] / counts[seen]
        order = seen[np.argsort(-mean_abs, kind="stable")][:TOP_TOKENS]
        result.tables["every_row_attribution"] = [
            {
                "token": target.vocab[i],
                "occurrences": int(counts[i]),
                "mean_abs_attribution": float(totals["abs_sum"][i] / counts[i]),
                "mean_attribution": float(totals["sum"][i] / counts[i]),
            }
            for i in order
        ]
        return
    mean_abs, mean = totals["abs_sum"] / n, totals["sum"] / n
    if case.blind.any():  # gradients do not reach integer-coded categories
        mean_abs[case.blind], mean[case.blind] = np.nan, np.nan
    if space.modality == "image":
        shape = space.input_shape[1:]
        result.arrays["every_row_mean_abs_map"] = mean_abs.reshape(shape).astype(np.float32)
        return
    total = np.nansum(mean_abs)
    result.tables["every_row_attribution"] = sorted(
        (
            {
                "feature": name,
                "mean_abs_attribution": float(a),
                "share": float(a / total) if total > 0 else float("nan"),
                "mean_attribution": float(m),
            }
            for name, a, m in zip(space.names, mean_abs, mean, strict=True)
        ),
        key=lambda row: -np.nan_to_num(row["mean_abs_attribution"], nan=-np.inf),
    )
