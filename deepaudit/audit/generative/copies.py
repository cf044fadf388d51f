"""Does a generator reproduce its training samples?

For each generated sample, the distance to its nearest training sample is compared with
the same distance for held-out real samples, which the model never saw (in the spirit
of Meehan et al., 2020, "A non-parametric test to detect data-copying"). A generator
that learned the distribution sits about as far from the training set as fresh real
data does; one that copies sits closer. Two readings:

- the share of generated samples closer to the training set than the ``copy_quantile``
  of held-out distances ("copies"; about ``copy_quantile`` when nothing is copied), with
  a Clopper–Pearson interval;
- the probability that a generated sample lies closer than a held-out one (the
  Mann–Whitney statistic over the two sets of distances; 0.5 when they match).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.neighbors import NearestNeighbors


@dataclass
class Memorisation:
    """Nearest-training-neighbour distances of generated and held-out samples."""

    generated_distances: np.ndarray
    generated_neighbours: np.ndarray  # index of each generated sample's nearest training row
    heldout_distances: np.ndarray
    threshold: float
    copy_share: float
    copy_interval: tuple[float, float]
    heldout_share: float  # held-out samples under the threshold: the share expected by chance
    closer_probability: float
    p_value: float

    @property
    def copies(self) -> np.ndarray:
        return self.generated_distances <= self.threshold


def memorisation(
    train: np.ndarray,
    generated: np.ndarray,
    heldout: np.ndarray,
    *,
    copy_quantile: float = 0.01,
    confidence: float = 0.95,
) -> Memorisation:
    """Compare generated and held-out rows' distances to their nearest ``train`` row."""
    search = NearestNeighbors(n_neighbors=1).fit(np.asarray(train, dtype=np.float64))
    gen_d, gen_i = search.kneighbors(np.asarray(generated, dtype=np.float64))
    held_d, _ = search.kneighbors(np.asarray(heldout, dtype=np.float64))
    gen_d, held_d = gen_d[:, 0], held_d[:, 0]
    threshold = float(np.quantile(held_d, copy_quantile))
    n_copies = int(np.sum(gen_d <= threshold))
    interval = stats.binomtest(n_copies, len(gen_d)).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    # U counts pairs (held-out, generated) with the generated sample closer (ties half).
    test = stats.mannwhitneyu(held_d, gen_d, alternative="greater")
    return Memorisation(
        generated_distances=gen_d,
        generated_neighbours=gen_i[:, 0],
        heldout_distances=held_d,
        threshold=threshold,
        copy_share=n_copies / len(gen_d),
        copy_interval=(float(interval.low), float(interval.high)),
        heldout_share=float(np.mean(held_d <= threshold)),
        closer_probability=float(test.statistic / (len(held_d) * len(gen_d))),
        p_value=float(test.pvalue),
    )
