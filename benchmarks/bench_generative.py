"""Speed of the generative audit's statistics, side by side with the usual implementations.

- precision / recall / density / coverage: deepaudit (scikit-learn k-NN radii, chunked
  distances, every statistic read from two boolean matrices) against the algorithm of the
  ``prdc`` package by Naeem et al. (full distance matrices from scikit-learn, radii by
  ``np.partition``), transcribed here because the package is not installed;
- their bootstrap: deepaudit's batched resampling weights against recomputing the
  statistics on each resample's rows and columns;
- the Fréchet distance: the zoo's eigendecomposition form against pytorch-fid's
  ``scipy.linalg.sqrtm`` form;
- the memorisation search: scikit-learn ``NearestNeighbors`` against a brute-force
  ``cdist`` + ``argmin``.

Run: ``.venv/bin/python benchmarks/bench_generative.py``. Prints seconds (best of 3) and
the ratio other / deepaudit (above 1: deepaudit is faster).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy import linalg
from scipy.spatial.distance import cdist
from sklearn.metrics import pairwise_distances
from threadpoolctl import threadpool_limits

from deepaudit.audit.generative.copies import memorisation
from deepaudit.audit.generative.fidelity import (
    bootstrap_weights,
    frechet_distance,
    manifolds,
    prdc,
    prdc_statistics,
)


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def prdc_package(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The ``prdc`` package's algorithm (Naeem et al. 2020's reference code)."""

    def radii(x):
        d = pairwise_distances(x, x, n_jobs=1)
        return np.partition(d, k + 1, axis=-1)[:, : k + 1].max(axis=-1)

    r_real, r_fake = radii(real), radii(fake)
    d = pairwise_distances(real, fake, n_jobs=1)
    return {
        "precision": float((d < r_real[:, None]).any(axis=0).mean()),
        "recall": float((d < r_fake[None, :]).any(axis=1).mean()),
        "density": float((1.0 / k) * (d < r_real[:, None]).sum(axis=0).mean()),
        "coverage": float((d.min(axis=1) < r_real).mean()),
    }


def naive_bootstrap(m, n_resamples: int, rng: np.random.Generator) -> None:
    n_real, n_fake = m.in_real_balls.shape
    for _ in range(n_resamples):
        cols = rng.integers(0, n_fake, n_fake)
        rows = rng.integers(0, n_real, n_real)
        m.in_real_balls[:, cols].any(axis=0).mean()
        m.in_real_balls[:, cols].sum(axis=0).mean()
        m.in_real_balls[rows].any(axis=1).mean()
        m.in_fake_balls[rows].any(axis=1).mean()


def batched_bootstrap(m, n_resamples: int, rng: np.random.Generator) -> None:
    n_real, n_fake = m.in_real_balls.shape
    prdc_statistics(m, np.ones((n_resamples, n_real)), bootstrap_weights(n_fake, n_resamples, rng))
    prdc_statistics(m, bootstrap_weights(n_real, n_resamples, rng), np.ones((n_resamples, n_fake)))


def sqrtm_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """pytorch-fid's ``calculate_frechet_distance``."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))


def row(name: str, ours: float, other: float, other_name: str) -> None:
    print(
        f"{name:<42} deepaudit {ours:8.3f} s   {other_name:<22} {other:8.3f} s   ratio {other / ours:6.2f}"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    print("one thread per library (as the family runs by default: GenerativeConfig.n_threads=1)")
    with threadpool_limits(1):
        for n, dim in ((1000, 64), (1000, 576), (4000, 64)):
            real = rng.normal(size=(n, dim))
            fake = rng.normal(loc=0.2, size=(n, dim))
            ours = prdc(real, fake, 5)[0]
            theirs = prdc_package(real, fake, 5)
            assert all(abs(ours[k] - theirs[k]) < 1e-12 for k in ours), (ours, theirs)
            row(
                f"PRDC n={n} d={dim}",
                best_of(lambda real=real, fake=fake: prdc(real, fake, 5)),
                best_of(lambda real=real, fake=fake: prdc_package(real, fake, 5)),
                "prdc package algorithm",
            )
        real, fake = rng.normal(size=(1000, 64)), rng.normal(loc=0.2, size=(1000, 64))
        m = manifolds(real, fake, 5)
        row(
            "PRDC bootstrap, 200 resamples, n=1000",
            best_of(lambda: batched_bootstrap(m, 200, np.random.default_rng(1))),
            best_of(lambda: naive_bootstrap(m, 200, np.random.default_rng(1))),
            "resample-by-slicing",
        )
        for dim in (64, 576):
            a, b = rng.normal(size=(1000, dim)), rng.gamma(2.0, size=(1000, dim))
            assert abs(frechet_distance(a, b) - sqrtm_frechet(a, b)) < 1e-6 * sqrtm_frechet(a, b)
            row(
                f"Fréchet distance n=1000 d={dim}",
                best_of(lambda a=a, b=b: frechet_distance(a, b)),
                best_of(lambda a=a, b=b: sqrtm_frechet(a, b)),
                "scipy sqrtm (pytorch-fid)",
            )
        train = rng.random(size=(3500, 784))
        gen, held = rng.random(size=(1000, 784)), rng.random(size=(1000, 784))

        def brute() -> None:
            cdist(gen, train).argmin(axis=1)
            cdist(held, train).min(axis=1)

        row(
            "memorisation search 2×1000 vs 3500, d=784",
            best_of(lambda: memorisation(train, gen, held)),
            best_of(brute),
            "cdist + argmin",
        )


if __name__ == "__main__":
    main()
