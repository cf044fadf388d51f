"""Does a generator reproduce its training samples?

For each generated sample, the distance to its nearest training sample is compared with
the same distance for held-out real samples, which the model never saw (in the spirit
of Meehan et al., 2020, "A non-parametric test to detect data-copying"). A generator
that learned the distribution sits about as far from the training set as fresh real
data does; one that copies sits closer. Two readings:

- the share of generated samples closer to the training set than a held-out threshold
  ("copies"), with a Clopper–Pearson interval, against the share expected by chance;
- the probability that a generated sample lies closer than a held-out one (the
  Mann–Whitney statistic over the two sets of distances; 0.5 when they match).

The threshold is a low order statistic of the held-out distances, chosen as a conformal
bound: with ``n`` held-out distances, the ``k = floor(q·(n + 1))``-th smallest is one a
novel sample, exchangeable with the held-out ones, falls under with probability at most
``k / (n + 1) <= q`` (``q`` the ``copy_quantile``). Where the classes of samples are
known (the label model), each class has its own threshold from its own held-out samples:
some classes sit far closer to their training neighbours than others (a "1" is near
another "1"), so one pooled threshold flags a generator of novel "1"s as a copier. With
per-class thresholds a generator that copies nothing shows at most ``q`` copies,
whatever classes it generates; a class with too few held-out samples for ``k >= 1`` gets
threshold 0 (only exact copies count there), which the ``"thresholds"`` rows say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from sklearn.neighbors import NearestNeighbors


@dataclass
class Memorisation:
    """Nearest-training-neighbour distances of generated and held-out samples, and the
    threshold each generated sample was read against."""

    generated_distances: np.ndarray
    generated_neighbours: np.ndarray  # index of each generated sample's nearest training row
    heldout_distances: np.ndarray
    thresholds: np.ndarray  # per generated sample
    copy_share: float
    copy_interval: tuple[float, float]
    expected_share: float  # the most a generator that copies nothing shows (k / (n + 1))
    heldout_share: float  # held-out samples under their own threshold
    closer_probability: float
    p_value: float
    by_class: list[dict] = field(default_factory=list)

    @property
    def threshold(self) -> float:
        """The threshold of the pooled reading (the largest per-class one)."""
        return float(self.thresholds.max()) if len(self.thresholds) else float("nan")

    @property
    def copies(self) -> np.ndarray:
        return self.generated_distances <= self.thresholds


def conformal_threshold(distances: np.ndarray, quantile: float) -> tuple[float, float]:
    """The ``k``-th smallest of ``distances``, ``k = floor(q·(n + 1))``, and the chance
    ``k / (n + 1)`` that a novel sample falls under it. With fewer than ``1/q - 1``
    distances ``k`` is 1 (the smallest), whose chance ``1 / (n + 1)`` exceeds ``q``: the
    bound stays valid, and the chance recorded says how much more it lets through.
    ``(nan, nan)`` when there are no distances."""
    n = len(distances)
    if n == 0:
        return math.nan, math.nan
    k = max(1, math.floor(quantile * (n + 1) + 1e-9))
    return float(np.partition(distances, k - 1)[k - 1]), k / (n + 1)


def memorisation(
    train: np.ndarray,
    generated: np.ndarray,
    heldout: np.ndarray,
    *,
    copy_quantile: float = 0.01,
    confidence: float = 0.95,
    generated_classes: np.ndarray | None = None,
    heldout_classes: np.ndarray | None = None,
) -> Memorisation:
    """Compare generated and held-out rows' distances to their nearest ``train`` row;
    with the classes of both, each class against its own held-out threshold."""
    search = NearestNeighbors(n_neighbors=1).fit(np.asarray(train, dtype=np.float64))
    gen_d, gen_i = search.kneighbors(np.asarray(generated, dtype=np.float64))
    held_d, _ = search.kneighbors(np.asarray(heldout, dtype=np.float64))
    gen_d, held_d = gen_d[:, 0], held_d[:, 0]
    if generated_classes is None or heldout_classes is None:
        generated_classes = np.zeros(len(gen_d), dtype=np.int64)
        heldout_classes = np.zeros(len(held_d), dtype=np.int64)
        per_class = False
    else:
        generated_classes = np.asarray(generated_classes)
        heldout_classes = np.asarray(heldout_classes)
        per_class = True
    thresholds = np.zeros(len(gen_d))
    held_thresholds = np.zeros(len(held_d))
    expected = np.zeros(len(gen_d))
    by_class = []
    # A class no held-out sample was given is read against the pooled bound.
    pooled = conformal_threshold(held_d, copy_quantile)
    for c in np.unique(np.concatenate([generated_classes, heldout_classes])):
        mine, held = generated_classes == c, heldout_classes == c
        threshold, chance = conformal_threshold(held_d[held], copy_quantile)
        if not math.isfinite(chance):
            threshold, chance = pooled
        thresholds[mine], held_thresholds[held], expected[mine] = threshold, threshold, chance
        if per_class:
            by_class.append(
                {
                    "class": int(c),
                    "n_generated": int(mine.sum()),
                    "n_heldout": int(held.sum()),
                    "threshold": threshold,
                    "expected_share": chance,
                    "copy_share": float(np.mean(gen_d[mine] <= threshold))
                    if mine.any()
                    else float("nan"),
                }
            )
    n_copies = int(np.sum(gen_d <= thresholds))
    interval = stats.binomtest(n_copies, len(gen_d)).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    # U counts pairs (held-out, generated) with the generated sample closer (ties half).
    test = stats.mannwhitneyu(held_d, gen_d, alternative="greater")
    return Memorisation(
        generated_distances=gen_d,
        generated_neighbours=gen_i[:, 0],
        heldout_distances=held_d,
        thresholds=thresholds,
        copy_share=n_copies / len(gen_d),
        copy_interval=(float(interval.low), float(interval.high)),
        expected_share=float(expected.mean()) if len(expected) else float("nan"),
        heldout_share=float(np.mean(held_d <= held_thresholds)),
        closer_probability=float(test.statistic / (len(held_d) * len(gen_d))),
        p_value=float(test.pvalue),
        by_class=by_class,
    )
