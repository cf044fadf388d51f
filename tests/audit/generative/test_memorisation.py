"""The memorisation test finds a generator that copies its training data and clears one
that learned the distribution."""

import numpy as np
import pytest

from deepaudit.audit.generative.copies import memorisation
from tests.audit.generative.generative_toys import CopyGenerator, audit, by_check


def test_fresh_samples_are_not_copies(rng):
    train, heldout, generated = (rng.normal(size=(500, 10)) for _ in range(3))
    mem = memorisation(train, generated, heldout, copy_quantile=0.05)
    assert mem.heldout_share == pytest.approx(0.05, abs=0.002)
    assert mem.copy_share < 0.1  # about 5 % by chance
    assert mem.copy_interval[0] <= 0.05 <= mem.copy_interval[1]
    assert mem.closer_probability == pytest.approx(0.5, abs=0.05)
    assert mem.p_value > 0.01


def test_noisy_copies_of_training_samples_are_found(rng):
    train, heldout = rng.normal(size=(500, 10)), rng.normal(size=(500, 10))
    picked = rng.integers(0, 500, 300)
    generated = train[picked] + 1e-3 * rng.normal(size=(300, 10))
    mem = memorisation(train, generated, heldout)
    assert mem.copy_share == 1.0
    np.testing.assert_array_equal(mem.generated_neighbours, picked)
    assert mem.closer_probability == 1.0
    assert mem.p_value < 1e-50


def test_distances_equal_brute_force(rng):
    train, heldout, generated = (
        rng.normal(size=(50, 3)),
        rng.normal(size=(20, 3)),
        rng.normal(size=(30, 3)),
    )
    mem = memorisation(train, generated, heldout, copy_quantile=0.1)
    brute = np.linalg.norm(generated[:, None] - train[None], axis=2)
    np.testing.assert_allclose(mem.generated_distances, brute.min(axis=1))
    np.testing.assert_array_equal(mem.generated_neighbours, brute.argmin(axis=1))
    held = np.linalg.norm(heldout[:, None] - train[None], axis=2).min(axis=1)
    assert mem.threshold == pytest.approx(np.quantile(held, 0.1))


def test_the_family_fails_a_generator_that_returns_training_samples(toy):
    result = audit(toy.target(CopyGenerator(toy.train)))
    finding = by_check(result)["memorisation"]
    assert finding.severity == "fail"
    assert result.metrics["copy_share"] == 1.0
    assert finding.evidence.view == "memorisation"
    # Every saved neighbour pair is an exact copy at distance 0.
    np.testing.assert_array_equal(
        result.arrays["neighbour_generated"], result.arrays["neighbour_train"]
    )
    assert (result.arrays["neighbour_distances"] == 0).all()
    ids = result.arrays["neighbour_train_ids"]
    np.testing.assert_array_equal(toy.train[ids].numpy(), result.arrays["neighbour_train"])


def test_the_family_passes_a_generator_that_learned_the_distribution(toy):
    result = audit(toy.target(toy.truth))
    assert by_check(result)["memorisation"].severity == "pass"
    assert result.metrics["copy_share"] < 0.03
    assert result.metrics["closer_than_heldout_probability"] == pytest.approx(0.5, abs=0.06)


def test_without_training_data_memorisation_is_inconclusive(toy):
    result = audit(toy.target(toy.truth, train=False))
    finding = by_check(result)["memorisation"]
    assert finding.severity == "inconclusive"
    assert "copy_share" not in result.metrics
    assert "frechet_ratio" not in result.metrics  # no real-vs-real baseline either
    assert any("train_data" in note for note in result.notes)
