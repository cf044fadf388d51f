"""The memorisation test finds a generator that copies its training data and clears one
that learned the distribution."""

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.generative.copies import conformal_threshold, memorisation
from tests.audit.generative.generative_toys import LATENT, SHAPE, CopyGenerator, audit, by_check


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
    # The conformal threshold: the floor(0.1 × 21) = 2nd smallest held-out distance.
    assert mem.threshold == pytest.approx(np.sort(held)[1])
    assert mem.expected_share == pytest.approx(2 / 21)


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


def test_a_novel_sample_falls_under_the_conformal_threshold_at_most_q_of_the_time(rng):
    # Exchangeable draws: the chance a fresh one lies under the k-th smallest of n held-out
    # ones is k / (n + 1) exactly; simulated over 4,000 tries.
    under = []
    for _ in range(4000):
        held, fresh = rng.exponential(size=199), rng.exponential()
        threshold, chance = conformal_threshold(held, 0.01)
        under.append(fresh <= threshold)
    assert chance == 2 / 200
    assert np.mean(under) == pytest.approx(0.01, abs=0.005)


def test_with_too_few_held_out_samples_the_threshold_is_the_smallest_and_says_its_chance(rng):
    # 49 held-out: floor(0.01 * 50) = 0, so the bound is the smallest distance, and a
    # fresh draw falls under it 1 / 50 of the time (not 0, as a threshold of 0 would claim).
    under = []
    for _ in range(4000):
        held, fresh = rng.exponential(size=49), rng.exponential()
        threshold, chance = conformal_threshold(held, 0.01)
        assert threshold == held.min()
        under.append(fresh <= threshold)
    assert chance == 1 / 50
    assert np.mean(under) == pytest.approx(0.02, abs=0.007)
    assert np.isnan(conformal_threshold(np.array([]), 0.01)).all()


class TwoClasses:
    """16-d data of two classes: a rare, tight class 0 (10 % of rows, spread 0.05) whose
    samples lie far closer to their training neighbours than those of the wide class 1;
    and a label model that tells them apart."""

    def __init__(self, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(10_000 + seed)  # not the audit seed's stream
        self.centre = torch.zeros(16)
        self.spread = 0.05

        def draw(n: int, rare: float) -> torch.Tensor:
            n0 = int(n * rare)
            tight = self.centre + self.spread * torch.randn(n0, 16, generator=g)
            wide = 3.0 + torch.randn(n - n0, 16, generator=g)
            return torch.cat([tight, wide]).reshape(-1, *SHAPE)

        self.train, self.real = draw(1000, 0.1), draw(1000, 0.1)
        self.tight_train = self.train[:100]

    @staticmethod
    def label_model(x: torch.Tensor) -> torch.Tensor:
        far = (x.flatten(1) - 1.5).mean(dim=1)  # class 1 sits at 3, class 0 at 0
        return torch.stack([-far, far], dim=1)

    def target(self, generator: nn.Module) -> da.Target:
        return da.Target(
            generator, kind="generator", modality="image", latent_dim=LATENT,
            reference_data=self.real, train_data=self.train, label_model=self.label_model,
            device="cpu",
        )  # fmt: skip


class NovelTightGenerator(nn.Module):
    """Fresh samples of the tight class only: mode-collapsed onto one class, copying nothing."""

    def __init__(self, spread: float) -> None:
        super().__init__()
        self.spread = spread

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.spread * z[:, :16]).reshape(-1, *SHAPE)


def test_a_generator_of_novel_samples_of_one_class_is_not_flagged_but_a_copier_is():
    data = TwoClasses()
    novel = audit(data.target(NovelTightGenerator(data.spread)), n_real=1000, n_generated=500)
    assert novel.metrics["copy_threshold_by_class"] is True
    assert novel.metrics["copy_share"] <= 0.03
    assert by_check(novel)["memorisation"].severity == "pass"
    rows = {r["class"]: r for r in novel.tables["copy_thresholds"]}
    assert rows["0"]["n_generated"] == 500 and rows["0"]["n_heldout"] == 100
    assert rows["0"]["threshold"] < rows["1"]["threshold"]  # the tight class's own, far lower
    assert rows["0"]["expected_share"] == pytest.approx(1 / 101)
    # One pooled threshold (the 10th smallest of all held-out distances, all of them the
    # tight class's) flags about a tenth of these novel samples as copies.
    pooled = audit(
        data.target(NovelTightGenerator(data.spread)), n_real=1000, n_generated=500,
        copy_threshold_by_class=False,
    )  # fmt: skip
    assert pooled.metrics["copy_share"] > 0.05
    assert by_check(pooled)["memorisation"].severity != "pass"
    copier = audit(data.target(CopyGenerator(data.tight_train)), n_real=1000, n_generated=500)
    assert copier.metrics["copy_share"] == 1.0
    assert by_check(copier)["memorisation"].severity == "fail"


def test_per_class_thresholds_keep_novel_samples_at_chance_whatever_the_class_mix(rng):
    # Classes of very different density; generated rows are fresh draws of class 0 only.
    def rows(n, scale):
        return scale * rng.normal(size=(n, 8))

    # The dense class is a tenth of the held-out rows.
    train = np.concatenate([rows(100, 0.1), rows(900, 1.0) + 5])
    heldout = np.concatenate([rows(150, 0.1), rows(1350, 1.0) + 5])
    held_classes = np.array([0] * 150 + [1] * 1350)
    generated = rows(600, 0.1)
    mem = memorisation(
        train, generated, heldout, generated_classes=np.zeros(600, dtype=int),
        heldout_classes=held_classes,
    )  # fmt: skip
    assert mem.copy_interval[0] <= 0.01  # consistent with chance, at most 1 %
    assert mem.expected_share <= 0.01
    assert [r["class"] for r in mem.by_class] == [0, 1]
    pooled = memorisation(train, generated, heldout)  # the 15th smallest of class 0's 150
    assert pooled.copy_share > 0.05 and pooled.copy_interval[0] > 0.03
