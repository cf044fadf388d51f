"""Precision / recall / density / coverage, Fréchet distance and diversity on toy data
with known answers, and against a brute-force transcription of the papers' formulas."""

import numpy as np
import pytest
from scipy import linalg
from scipy.spatial.distance import cdist, pdist

from deepaudit.audit.generative.fidelity import (
    bootstrap_weights,
    frechet_distance,
    frechet_with_interval,
    knn_radii,
    manifolds,
    mean_pairwise_distance,
    prdc,
    prdc_statistics,
)


def _reference_prdc(real, fake, k):
    """Kynkäänniemi et al. (2019) and Naeem et al. (2020), written out with cdist."""
    d_rr, d_ff, d_rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_real = np.sort(d_rr, axis=1)[:, k]  # column 0 is the point itself
    r_fake = np.sort(d_ff, axis=1)[:, k]
    return {
        "precision": np.mean([(d_rf[:, j] < r_real).any() for j in range(len(fake))]),
        "recall": np.mean([(d_rf[i] < r_fake).any() for i in range(len(real))]),
        "density": np.mean([(d_rf[:, j] < r_real).sum() for j in range(len(fake))]) / k,
        "coverage": np.mean(d_rf.min(axis=1) < r_real),
    }


def _modes(rng, centres, per_mode, dim):
    return np.concatenate([c + rng.normal(size=(per_mode, dim)) for c in centres])


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_equals_the_papers_formulas(rng, k):
    real = rng.normal(size=(150, 6))
    fake = rng.normal(loc=0.4, scale=1.2, size=(120, 6))
    values, _, _ = prdc(real, fake, k)
    expected = _reference_prdc(real, fake, k)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=1e-12), name


def test_identical_distributions_score_close_to_one(rng):
    real, fake = rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4))
    values, _, _ = prdc(real, fake, 5)
    assert values["precision"] > 0.95 and values["recall"] > 0.95
    assert values["coverage"] > 0.93  # Naeem et al.: 1 - 2^-k in expectation, 0.97 for k=5
    assert values["density"] == pytest.approx(1.0, abs=0.1)


def test_the_same_samples_score_exactly_one(rng):
    real = rng.normal(size=(300, 3))
    values, _, _ = prdc(real, real.copy(), 5)
    assert (values["precision"], values["recall"], values["coverage"]) == (1.0, 1.0, 1.0)
    # Each sample sits in its own ball plus, on average, fewer than k others' (strict <).
    assert 1.0 < values["density"] < 6 / 5


def test_disjoint_distributions_score_zero(rng):
    real, fake = rng.normal(size=(400, 5)), rng.normal(loc=100.0, size=(400, 5))
    values, intervals, _ = prdc(real, fake, 5, n_bootstrap=50, rng=rng)
    assert values == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    assert all(interval == (0.0, 0.0) for interval in intervals.values())


def test_a_generator_covering_half_the_modes_has_recall_and_coverage_one_half(rng):
    centres = rng.normal(size=(10, 8)) * 50  # ten well separated modes
    real = _modes(rng, centres, 100, 8)
    fake = _modes(rng, centres[:5], 100, 8)  # the generator only knows five of them
    values, _, m = prdc(real, fake, 5)
    assert values["recall"] == pytest.approx(0.5, abs=0.05)
    assert values["coverage"] == pytest.approx(0.5, abs=0.05)
    assert values["precision"] > 0.9  # what it does generate is realistic
    covered = m.in_real_balls.any(axis=1)
    assert covered[500:].sum() == 0  # no real sample of a missing mode is covered


def test_bootstrap_weights_reproduce_an_explicit_resample(rng):
    real, fake = rng.normal(size=(80, 3)), rng.normal(loc=0.5, size=(70, 3))
    m = manifolds(real, fake, 4)
    rows, cols = rng.integers(0, 80, 80), rng.integers(0, 70, 70)
    stats = prdc_statistics(
        m, np.bincount(rows, minlength=80)[None], np.bincount(cols, minlength=70)[None]
    )
    sub_in_real = m.in_real_balls[np.ix_(rows, cols)]
    sub_in_fake = m.in_fake_balls[np.ix_(rows, cols)]
    assert stats["precision"][0] == pytest.approx(sub_in_real.any(axis=0).mean())
    assert stats["density"][0] == pytest.approx(sub_in_real.sum(axis=0).mean() / 4)
    assert stats["coverage"][0] == pytest.approx(sub_in_real.any(axis=1).mean())
    assert stats["recall"][0] == pytest.approx(sub_in_fake.any(axis=1).mean())


def test_precision_interval_has_the_binomial_width_and_holds_the_estimate(rng):
    real, fake = rng.normal(size=(1000, 4)), rng.normal(loc=0.6, size=(1000, 4))
    values, intervals, _ = prdc(real, fake, 5, n_bootstrap=400, rng=np.random.default_rng(1))
    p = values["precision"]
    low, high = intervals["precision"]
    assert low < p < high
    # The manifold is held fixed, so each generated sample is an independent in/out draw.
    assert high - low == pytest.approx(2 * 1.96 * np.sqrt(p * (1 - p) / 1000), rel=0.25)
    for name in ("recall", "density", "coverage"):
        assert intervals[name][0] <= values[name] <= intervals[name][1]


def test_bootstrap_weights_count_every_draw(rng):
    weights = bootstrap_weights(50, 7, rng)
    assert weights.shape == (7, 50)
    assert (weights.sum(axis=1) == 50).all()


def test_knn_radii_equal_brute_force(rng):
    x = rng.normal(size=(60, 5))
    np.testing.assert_allclose(knn_radii(x, 3), np.sort(cdist(x, x), axis=1)[:, 3], atol=1e-9)


def test_frechet_distance_of_identical_gaussians_is_about_zero(rng):
    a, b = rng.normal(size=(20000, 4)), rng.normal(size=(20000, 4))
    assert frechet_distance(a, b) == pytest.approx(0.0, abs=0.01)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_known_values(rng):
    a = rng.normal(size=(5000, 3)) @ np.array([[1.0, 0.3, 0], [0, 2.0, 0.5], [0, 0, 0.7]])
    shift = np.array([1.0, -2.0, 0.5])
    # Same covariance: only the means differ, |Δμ|² exactly.
    assert frechet_distance(a, a + shift) == pytest.approx(np.sum(shift**2), abs=1e-8)
    # Scaling by 2: |μ|² + tr Σ + 4 tr Σ − 2 tr(2Σ) = |μ|² + tr Σ.
    centred = a - a.mean(axis=0)
    expected = np.trace(np.cov(centred, rowvar=False))
    assert frechet_distance(centred, 2 * centred) == pytest.approx(expected, rel=1e-9)
    # Population values: N(0, I) against N(μ, I) is |μ|².
    b = rng.normal(size=(40000, 3)) + shift
    assert frechet_distance(rng.normal(size=(40000, 3)), b) == pytest.approx(5.25, abs=0.03)


def test_frechet_distance_agrees_with_the_sqrtm_formula(rng):
    a, b = rng.normal(size=(400, 6)), rng.gamma(2.0, size=(400, 6))
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-7)


def test_frechet_interval_holds_the_estimate_and_repeats_with_the_seed(rng):
    a, b = rng.normal(size=(300, 3)), rng.normal(loc=1.0, size=(300, 3))
    one = frechet_with_interval(a, b, n_bootstrap=30, rng=np.random.default_rng(5))
    two = frechet_with_interval(a, b, n_bootstrap=30, rng=np.random.default_rng(5))
    assert one == two
    value, (low, high) = one
    assert low < value < high
    assert frechet_with_interval(a, b) == (value, None)


def test_mean_pairwise_distance_equals_scipy(rng):
    x = rng.normal(size=(120, 7))
    assert mean_pairwise_distance(x) == pytest.approx(pdist(x).mean(), rel=1e-12)


def test_frechet_interval_width_matches_the_spread_of_independent_estimates(rng):
    def draw():
        return rng.normal(size=(500, 8)), rng.normal(loc=0.3, size=(500, 8))

    spread = np.std([frechet_distance(*draw()) for _ in range(80)])
    value, (low, high) = frechet_with_interval(*draw(), n_bootstrap=200, rng=rng)
    assert low < value < high  # re-centred: duplicates in a resample inflate its distance
    assert (high - low) / (2 * 1.96) == pytest.approx(spread, rel=0.35)
