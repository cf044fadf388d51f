"""PGD on every evaluation row, folded into exact counts per group.

The classifier audit attacks a seeded subset of rows in depth (sweeps, minimal ε,
query-only and sanity checks). This pass adds the population view: it attacks *every*
row (of a streaming target too) with the same PGD at each ε of the first norm's grid,
batch by batch through the audit's engine (Ray spreads the batches over workers), and
keeps only counts: rows, rows correct before the attack and rows still correct at each
ε, overall and per group of each sensitive attribute.

ε is attacked from the smallest up, and only rows still standing are attacked again: a
perturbation allowed at a smaller ε is allowed at a larger one, so a row broken at ε
counts as broken at every larger ε and robust accuracy never rises with ε.

Random starts (``random_start``, or ``restarts`` > 1) are drawn per row, from a
generator seeded with (seed, row index, ε index, restart): a row's attack is then the
same whichever batch holds it and whichever worker runs it, so batch boundaries and
engines do not change the numbers. With the defaults (one run from the clean point)
PGD is deterministic and nothing is drawn at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepaudit.audit.engine import sum_over_rows
from deepaudit.audit.robustness.attacks import evaluate, pgd, random_start
from deepaudit.audit.robustness.config import RobustnessConfig, reference_index
from deepaudit.audit.robustness.objectives import misclassification
from deepaudit.audit.robustness.space import (
    AttackSpace,
    embedding_layer,
    image_space,
    mutable_columns,
    tabular_space,
    text_space,
)
from deepaudit.audit.robustness.stats import OVERALL, group_masks, wilson
from deepaudit.audit.stream import Batch
from deepaudit.audit.target import Target
from deepaudit.results import FamilyResult

TABLE = "every_row_robust_accuracy"
_STREAM = 0x0E7E  # separates these random starts from every other use of the seed


def batch_space(
    target: Target, x: torch.Tensor, norm: str, columns: list[int] | None
) -> AttackSpace:
    """The attack space of ``x``, built as the classifier audit builds it for its subset
    (``columns``: the mutable tabular columns, chosen on the driver's full target)."""

    def logits(inputs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return target.score_tensor(inputs)

    if target.modality == "image":
        return image_space(x, target.input_range, logits)
    if target.modality == "tabular":
        return tabular_space(target, x, columns or [], logits)
    layer = embedding_layer(target.model, target.metadata.get("embedding_layer"))
    return text_space(target, layer, x, norm)


def _row_starts(
    shape: tuple[int, ...], rows: np.ndarray, eps: float, norm: str, seed: int, k: int, r: int
) -> torch.Tensor:
    """One random point of the ε-ball per row, each from its own seeded generator."""
    starts = []
    radius = torch.full((1, *([1] * (len(shape) - 1))), float(eps))
    for row in rows:
        state = np.random.SeedSequence([seed, _STREAM, int(row), k, r]).generate_state(1, np.uint64)
        generator = torch.Generator().manual_seed(int(state[0]))
        starts.append(random_start((1, *shape[1:]), radius, norm, generator, "cpu"))
    return torch.cat(starts) if starts else torch.zeros(shape)


@dataclass
class PGDKernel:
    """PGD at every ε of ``grid`` on one batch, reduced to counts. Picklable (Ray ships
    it); it reads only the batch and the model of the target it is handed."""

    options: RobustnessConfig
    norm: str
    grid: tuple[float, ...]
    seed: int
    columns: list[int] | None = None  # tabular: the columns an attack may move

    def __call__(self, target: Target, batch: Batch) -> dict[str, Any]:
        n = len(batch)
        standing = np.zeros((len(self.grid) + 1, n), dtype=bool)  # row 0: clean
        for start in range(0, n, target.batch_size):
            stop = min(n, start + target.batch_size)
            labels = None if batch.labels is None else batch.labels[start:stop]
            standing[:, start:stop] = self._attack(
                target, batch.x[start:stop], labels, batch.start + start
            )
        return _counts(standing, batch.sensitive)

    def _attack(
        self, target: Target, x: torch.Tensor, labels: np.ndarray | None, first: int
    ) -> np.ndarray:
        """``standing[k, i]``: row i still correct after the attacks up to ε_k (k = 0:
        clean), for the rows ``first, first + 1, ...`` of the data."""
        options = self.options
        device = target.device
        x = x.to(device)
        space = batch_space(target, x, self.norm, self.columns)
        everyone = torch.arange(len(x), device=device)
        if labels is not None:
            y = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=device)
        else:  # agreement with the model's own clean predictions
            with torch.no_grad():
                y = space.forward(space.zeros(everyone), everyone).argmax(dim=1)
        objective = misclassification(y, options.loss)
        standing = np.zeros((len(self.grid) + 1, len(x)), dtype=bool)
        alive = ~evaluate(space, everyone, objective).success
        standing[0] = alive.cpu().numpy()
        for k, eps in enumerate(self.grid, start=1):
            rows = everyone[alive]
            for r in range(options.restarts):
                if len(rows) == 0:
                    break
                init = None
                if options.random_start or r > 0:
                    ids = first + rows.cpu().numpy()
                    init = _row_starts(space.x0.shape, ids, eps, self.norm, self.seed, k - 1, r)
                found = pgd(
                    space,
                    rows,
                    objective,
                    eps,
                    norm=self.norm,
                    steps=options.steps,
                    relative_step_size=options.relative_step_size,
                    restarts=1,
                    random_init=False,
                    init=init,
                )
                alive[rows[found.success]] = False
                rows = rows[~found.success]
            standing[k] = alive.cpu().numpy()
        return standing


def _counts(standing: np.ndarray, sensitive) -> dict[str, Any]:
    """Rows, clean-correct and still-correct counts at each ε, overall and per group."""
    groups = {}
    for attribute, group, mask in group_masks(sensitive, standing.shape[1]):
        totals = standing[:, mask].sum(axis=1).astype(np.int64)
        groups[(attribute, group)] = {
            "n": int(mask.sum()),
            "clean_correct": int(totals[0]),
            "robust_correct": totals[1:],
        }
    overall = groups[OVERALL]
    return {**overall, "groups": groups}


def every_row_results(
    result: FamilyResult, target: Target, options: RobustnessConfig, seed: int
) -> None:
    """Attack every row of the classifier ``target`` and add the counts to ``result``."""
    norm = options.norms[0]
    grid = tuple(options.grid(norm, target.modality))
    columns = (
        mutable_columns(target, options.immutable_features)
        if target.modality == "tabular"
        else None
    )
    kernel = PGDKernel(options, norm, grid, seed, columns)
    total = sum_over_rows(target, kernel, desc="PGD on every row")
    if total is None:
        return
    result.tables[TABLE] = table_rows(total, grid, target.sensitive_names, options.confidence)
    k = reference_index(grid, options)
    n = int(total["n"])
    result.metrics.update(
        every_row_n=n,
        every_row_norm=norm,
        every_row_epsilon=grid[k],
        every_row_clean_accuracy=total["clean_correct"] / n if n else float("nan"),
        every_row_robust_accuracy=float(total["robust_correct"][k] / n) if n else float("nan"),
    )


def table_rows(
    total: dict[str, Any], grid: tuple[float, ...], attributes: list[str], confidence: float
) -> list[dict[str, Any]]:
    """One row per (attribute, group, ε): overall first, then each attribute's groups
    in the order of ``attributes`` (groups sorted, as :func:`group_masks` sorts them)."""
    order = {attribute: i for i, attribute in enumerate(attributes)}
    keys = sorted(
        (key for key in total["groups"] if key != OVERALL),
        key=lambda key: (order.get(key[0], len(order)), key[0], key[1]),
    )
    rows = []
    for attribute, group in [OVERALL, *keys]:
        counts = total["groups"][(attribute, group)]
        n = int(counts["n"])
        clean = counts["clean_correct"] / n if n else float("nan")
        for eps, robust in zip(grid, counts["robust_correct"], strict=True):
            low, high = wilson(int(robust), n, confidence)
            rows.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "eps": float(eps),
                    "n": n,
                    "robust_accuracy": float(robust / n) if n else float("nan"),
                    "low": low,
                    "high": high,
                    "clean_accuracy": float(clean),
                }
            )
    return rows
