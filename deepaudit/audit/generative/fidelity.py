"""Fidelity and coverage of generated samples against real ones, on a feature space.

Improved precision and recall (Kynkäänniemi et al., 2019) and density and coverage
(Naeem et al., 2020) estimate the real and generated manifolds as unions of k-NN balls:
each sample's ball reaches its k-th nearest neighbour in its own set (scikit-learn's
``NearestNeighbors``). Every statistic then reads two boolean matrices, which pass
through resampling weights, so the point estimate and all bootstrap resamples come from
the same few matrix products (:func:`prdc_statistics`). The Fréchet distance is
:func:`.frechet.frechet_distance`, which the reference GAN's recipe also reads, so
training and audit report the same number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors

from deepaudit.audit.bars import nested_bar
from deepaudit.audit.generative.frechet import frechet_distance

__all__ = [
    "PRDC",
    "Manifolds",
    "bootstrap_weights",
    "frechet_distance",
    "frechet_with_interval",
    "knn_radii",
    "manifolds",
    "mean_pairwise_distance",
    "percentile_interval",
    "prdc",
    "prdc_statistics",
]

PRDC = ("precision", "recall", "density", "coverage")


@dataclass
class Manifolds:
    """Which generated samples fall in which real samples' k-NN balls, and vice versa.

    Attributes
    ----------
    in_real_balls
        ``(n_real, n_fake)``: ``d(real_i, fake_j) < r_k(real_i)``.
    in_fake_balls
        ``(n_real, n_fake)``: ``d(real_i, fake_j) < r_k(fake_j)``.
    nearest_fake
        Distance from each real sample to its nearest generated one.
    real_radii, fake_radii
        Each sample's distance to its k-th nearest neighbour in its own set.
    k
        The neighbour rank of the radii.
    """

    in_real_balls: np.ndarray
    in_fake_balls: np.ndarray
    nearest_fake: np.ndarray
    real_radii: np.ndarray
    fake_radii: np.ndarray
    k: int


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    x = np.asarray(x, dtype=np.float64)
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, k]  # column 0 is the row itself


def manifolds(
    real: np.ndarray, fake: np.ndarray, k: int, real_radii: np.ndarray | None = None
) -> Manifolds:
    """The ball memberships of :class:`Manifolds`, computed in memory-bounded chunks
    (``real_radii``: the real samples' k-NN radii when already known)."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    fake_radii = knn_radii(fake, k)

    def reduce(d: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = real_radii[start : start + len(d), None]
        return d < rows, d < fake_radii[None, :], d.min(axis=1)

    parts = list(pairwise_distances_chunked(real, fake, reduce_func=reduce))
    return Manifolds(
        in_real_balls=np.concatenate([p[0] for p in parts]),
        in_fake_balls=np.concatenate([p[1] for p in parts]),
        nearest_fake=np.concatenate([p[2] for p in parts]),
        real_radii=real_radii,
        fake_radii=fake_radii,
        k=k,
    )


def prdc_statistics(
    m: Manifolds, real_weights: np.ndarray, fake_weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Precision, recall, density and coverage for each row of resampling weights.

    ``real_weights`` (B × n_real) and ``fake_weights`` (B × n_fake) count how often each
    sample is drawn in each of B resamples; all-ones rows give the plain estimates:

    - precision: share of generated samples inside some real ball;
    - recall: share of real samples inside some generated ball;
    - density: real balls holding a generated sample, per generated sample, over k;
    - coverage: share of real samples whose own ball holds a generated sample.

    The radii stay at their full-sample values in every resample.
    """
    # Counts are whole numbers, exact in float32 products (up to 2**24); sums in float64.
    w_real = np.asarray(real_weights, dtype=np.float32)
    w_fake = np.asarray(fake_weights, dtype=np.float32)
    in_real = m.in_real_balls.astype(np.float32)
    in_fake = m.in_fake_balls.astype(np.float32)
    holding = (w_real @ in_real).astype(np.float64)  # B × n_fake: real balls around fake j
    covered = (in_real @ w_fake.T) > 0  # n_real × B
    recalled = (in_fake @ w_fake.T) > 0  # n_real × B
    w_real, w_fake = w_real.astype(np.float64), w_fake.astype(np.float64)
    n_real, n_fake = w_real.sum(axis=1), w_fake.sum(axis=1)
    return {
        "precision": ((holding > 0) * w_fake).sum(axis=1) / n_fake,
        "recall": (recalled * w_real.T).sum(axis=0) / n_real,
        "density": (holding * w_fake).sum(axis=1) / (m.k * n_fake),
        "coverage": (covered * w_real.T).sum(axis=0) / n_real,
    }


def bootstrap_weights(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``n`` samples is drawn in each of ``n_resamples`` bootstraps."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float32)


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` percentile interval of bootstrap values."""
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def prdc(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = 5,
    *,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    progress: bool = False,
    real_radii: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]], Manifolds]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` features.

    Returns the estimates, their percentile-bootstrap intervals (empty when
    ``n_bootstrap`` is 0) and the :class:`Manifolds` they were read from. The bootstrap
    is conditional: precision and density resample the generated samples they average
    over, recall and coverage the real ones, while the other set's k-NN balls stay as
    estimated from all samples. (Resampling both sides at once biases these "is it in
    some ball" statistics downwards: a bootstrap set holds only ~63 % distinct samples.)
    The intervals so leave out the uncertainty of the manifold estimate itself.
    """
    m = manifolds(real, fake, k, real_radii)
    n_real, n_fake = m.in_real_balls.shape
    ones_real, ones_fake = np.ones((1, n_real)), np.ones((1, n_fake))
    point = prdc_statistics(m, ones_real, ones_fake)
    values = {name: float(point[name][0]) for name in PRDC}
    intervals: dict[str, tuple[float, float]] = {}
    if n_bootstrap > 0:
        rng = rng if rng is not None else np.random.default_rng(0)
        resampled: dict[str, list[np.ndarray]] = {name: [] for name in PRDC}
        step = 100
        starts = range(0, n_bootstrap, step)
        # A bar only for loops long enough to watch (the thorough budgets).
        for start in nested_bar(starts, show=progress and len(starts) >= 5, desc="bootstrap"):
            b = min(step, n_bootstrap - start)
            # Precision and density average over generated samples, recall and coverage
            # over real ones: each resamples its own side, the other manifold held fixed.
            over_fake = prdc_statistics(m, np.ones((b, n_real)), bootstrap_weights(n_fake, b, rng))
            over_real = prdc_statistics(m, bootstrap_weights(n_real, b, rng), np.ones((b, n_fake)))
            for name in ("precision", "density"):
                resampled[name].append(over_fake[name])
            for name in ("recall", "coverage"):
                resampled[name].append(over_real[name])
        for name in PRDC:
            intervals[name] = percentile_interval(np.concatenate(resampled[name]), confidence)
    return values, intervals, m


def frechet_with_interval(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    progress: bool = False,
) -> tuple[float, tuple[float, float] | None]:
    """The Fréchet distance between two feature sets and its bootstrap interval.

    A bootstrap resample repeats samples, which shrinks its covariance estimates and
    raises its Fréchet distance: the plain percentile interval can miss the estimate
    altogether. The resampled distances are therefore re-centred on the estimate (their
    mean moved onto it) before taking percentiles: the interval shows the spread of the
    estimate at this sample size. It is not an interval for the population distance, to
    which the plug-in estimate is biased upwards (compare Fréchet distances at equal n).
    """
    value = frechet_distance(a, b)
    if n_bootstrap == 0:
        return value, None
    rng = rng if rng is not None else np.random.default_rng(0)
    resampled = [
        frechet_distance(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
        for _ in nested_bar(range(n_bootstrap), show=progress and n_bootstrap >= 5, desc="Fréchet")
    ]
    resampled = np.asarray(resampled)
    return value, percentile_interval(resampled - (resampled.mean() - value), confidence)


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance between distinct rows (a diversity measure)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 2:
        return float("nan")
    total = sum(
        float(chunk.sum())
        for chunk in pairwise_distances_chunked(x, reduce_func=lambda d, start: d.sum(axis=1))
    )
    return total / (n * (n - 1))
