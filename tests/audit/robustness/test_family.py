"""The robustness family through run_audit: clean accuracy at ε = 0, curves that never
rise, planted effects found (a group near the boundary, a model without gradients),
the same numbers for the same seed, and every kind of target."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import NotApplicableError
from tests.audit.robustness.conftest import FAST, robustness


def _checks(result) -> dict[str, str]:
    return {f.check: f.severity for f in result.findings}


def _overall(result, attack="PGD", norm="Linf"):
    return [
        r
        for r in result.tables["curve"]
        if r["attack"] == attack and r["norm"] == norm and r["attribute"] == "overall"
    ]


@pytest.fixture(scope="module")
def tabular_result():
    """The shared tiny tabular target (tests/conftest.py), attacked once for several tests."""
    from tests.conftest import tabular_target

    target = tabular_target.__wrapped__(np.random.default_rng(0))
    return target, robustness(target, norms=("Linf", "L2"), fgsm="all")


def test_epsilon_zero_gives_the_clean_accuracy_of_the_attacked_samples(tabular_result):
    target, result = tabular_result
    ids = result.arrays["attacked_ids"]
    clean = float(np.mean(target.predict(target.data[ids]) == target.labels[ids]))
    for norm in ("Linf", "L2"):
        assert _overall(result, norm=norm)[0]["epsilon"] == 0.0
        assert _overall(result, norm=norm)[0]["accuracy"] == pytest.approx(clean, abs=1e-12)
    assert _overall(result, "FGSM")[0]["accuracy"] == pytest.approx(clean, abs=1e-12)
    assert result.metrics["clean_accuracy"] == pytest.approx(
        float(np.mean(target.predict() == target.labels))
    )


def test_accuracy_never_rises_with_epsilon_overall_or_in_any_group(tabular_result):
    _, result = tabular_result
    curves = {}
    for row in result.tables["curve"]:
        if row["attack"] == "PGD":
            curves.setdefault((row["norm"], row["attribute"], row["group"]), []).append(row)
    assert len(curves) == 2 * (1 + 2 + 3)  # two norms × (overall, sex, age)
    for rows in curves.values():
        eps = [r["epsilon"] for r in rows]
        acc = [r["accuracy"] for r in rows]
        assert eps == sorted(eps) and len(eps) == 5
        assert all(b <= a for a, b in itertools.pairwise(acc))
        assert all(r["ci_low"] <= r["accuracy"] <= r["ci_high"] for r in rows)


def test_group_rows_add_up_to_the_overall_row(tabular_result):
    _, result = tabular_result
    for eps in {r["epsilon"] for r in result.tables["curve"] if r["norm"] == "Linf"}:
        rows = [
            r
            for r in result.tables["curve"]
            if r["attack"] == "PGD" and r["norm"] == "Linf" and r["epsilon"] == eps
        ]
        overall = next(r for r in rows if r["attribute"] == "overall")
        sex = [r for r in rows if r["attribute"] == "sex"]
        assert sum(r["n"] for r in sex) == overall["n"]
        weighted = sum(r["accuracy"] * r["n"] for r in sex) / overall["n"]
        assert weighted == pytest.approx(overall["accuracy"])


def test_the_same_seed_gives_the_same_numbers(tabular_target):
    first = robustness(tabular_target, seed=3, n_samples=60)
    second = robustness(tabular_target, seed=3, n_samples=60)
    other = robustness(tabular_target, seed=4, n_samples=60)
    assert first.metrics == second.metrics
    assert first.tables == second.tables
    np.testing.assert_array_equal(
        first.arrays["flip_epsilon_Linf"], second.arrays["flip_epsilon_Linf"]
    )
    np.testing.assert_array_equal(first.arrays["attacked_ids"], other.arrays["attacked_ids"])
    moved = robustness(tabular_target, seed=3, sample_seed=4, n_samples=60)
    assert not np.array_equal(first.arrays["attacked_ids"], moved.arrays["attacked_ids"])


def test_a_group_near_the_decision_boundary_shows_up_as_a_robustness_gap(boundary_target):
    result = robustness(boundary_target, n_samples=200)
    gap = next(f for f in result.findings if f.check == "robustness_gap")
    assert gap.severity == "fail"
    assert gap.evidence.group == "band=near"
    assert gap.evidence.interval[0] > 0.1
    flips = {r["group"]: r["median"] for r in result.tables["flip_epsilon"]}
    assert flips["near"] < flips["far"] / 5  # |w·x| is 0.03 against 0.8


def test_a_group_far_from_the_boundary_alone_shows_no_gap(boundary_target):
    # Same model and data, groups drawn at random: whatever gap appears is noise.
    rng = np.random.default_rng(0)
    boundary_target.sensitive["band"] = rng.choice(["a", "b"], boundary_target.n_samples)
    result = robustness(boundary_target, n_samples=200)
    gap = next(f for f in result.findings if f.check == "robustness_gap")
    assert gap.severity in ("pass", "inconclusive")
    assert gap.evidence.interval[0] < 0.1


def test_a_quantised_model_triggers_the_gradient_masking_warnings(quantised_target):
    result = robustness(
        quantised_target, epsilons=(0.02, 0.05, 0.1), reference_index=-1, query_samples=30
    )
    checks = _checks(result)
    assert checks["zero_gradients"] == "warn"
    assert checks["query_beats_gradient"] == "warn"
    assert checks["large_epsilon"] == "warn"
    assert "sanity" not in checks  # no all-clear
    assert result.metrics["zero_gradient_fraction"] == 1.0


def test_a_differentiable_model_passes_the_sanity_checks(linear_target):
    result = robustness(linear_target, epsilons=(0.02, 0.05, 0.1))
    assert _checks(result)["sanity"] == "pass"
    rows = {r["check"]: r for r in result.tables["sanity"]}
    assert set(rows) == {
        "logits",
        "zero_gradients",
        "accuracy_falls_with_epsilon",
        "large_epsilon",
        "query_beats_gradient",
    }
    assert all(r["passed"] for r in rows.values())


def test_probabilities_instead_of_logits_are_refused_and_flagged(image_target):
    from deepaudit.audit.robustness import FAMILY, RobustnessConfig
    from deepaudit.errors import ValidationError

    image_target.model = nn.Sequential(image_target.model, nn.Softmax(dim=1))
    with pytest.raises(ValidationError, match="a classifier returning logits"):
        robustness(image_target, n_samples=10)  # run_audit's probe refuses it up front
    # the family's own sanity check still says so when it is run directly
    options = RobustnessConfig(**(FAST | {"n_samples": 10, "query_samples": 0}))
    result = FAMILY.run(image_target, options.replace(natural_samples=0), 0)
    assert _checks(FAMILY.regrade(result, options))["logits"] == "warn"


def test_examples_are_real_adversarial_examples_of_each_group(tabular_result):
    target, result = tabular_result
    rows = result.tables["examples"]
    original = result.arrays["examples_original"]
    adversarial = result.arrays["examples_adversarial"]
    assert len(rows) == len(original) == len(adversarial) > 0
    groups = {(r["attribute"], r["group"]) for r in rows}
    assert ("sex", "female") in groups and ("sex", "male") in groups
    for j, row in enumerate(rows):
        np.testing.assert_array_equal(original[j], target.data[row["sample_id"]].numpy())
        before = target.predict(original[j : j + 1])[0]
        after = target.predict(adversarial[j : j + 1])[0]
        assert before == result.arrays["examples_label"][j] == result.arrays["examples_before"][j]
        assert after == result.arrays["examples_after"][j] != before
        widths = np.array([hi - lo for lo, hi in target.feature_ranges.values()])
        moved = np.abs(adversarial[j] - original[j]) / widths
        assert moved.max() <= row["epsilon"] + 1e-5
        assert moved[2] == 0  # "age" is a sensitive attribute's name: immutable


def test_text_word_substitution_finds_the_planted_one_word_flip(flip_word_target):
    one = robustness(flip_word_target, max_changed_words=1, natural_samples=0)
    two = robustness(flip_word_target, max_changed_words=2, natural_samples=0)
    words_one = [r for r in _overall(one, "word substitution", "words")]
    words_two = [r for r in _overall(two, "word substitution", "words")]
    assert [r["accuracy"] for r in words_one] == [1.0, 0.25]  # three texts flip with one word
    assert [r["accuracy"] for r in words_two] == [1.0, 0.25, 0.0]  # the fourth needs two
    texts = {r["text_before"]: r["text_after"] for r in two.tables["examples"]}
    assert texts["good plot ."] == "bad plot ."


def test_text_attacks_run_on_the_lstm_fixture(text_target):
    result = robustness(text_target, max_changed_words=2)
    assert {r["attack"] for r in result.tables["curve"]} == {"PGD", "FGSM", "word substitution"}
    assert {r["perturbation"] for r in result.tables["natural"]} == {
        "typo",
        "character_swap",
        "case",
    }


def test_autoencoder_adversaries_hide_anomalies_and_flag_normal_samples(autoencoder_target):
    result = robustness(autoencoder_target, n_samples=60)
    threshold = autoencoder_target.anomaly_threshold
    for direction in ("hide_anomaly", "flag_normal"):
        rows = [
            r
            for r in result.tables["curve"]
            if r["direction"] == direction and r["attribute"] == "overall"
        ]
        rates = [r["success_rate"] for r in rows]
        assert rates[0] == 0.0 and all(b >= a for a, b in itertools.pairwise(rates))
    for j, row in enumerate(result.tables["examples"]):
        after = autoencoder_target.reconstruction_error(
            result.arrays["examples_adversarial"][j : j + 1]
        )
        assert after[0] == pytest.approx(row["score_after"], rel=1e-5)
        assert (after[0] <= threshold) == (row["direction"] == "hide_anomaly")
    assert {"hide_anomaly", "flag_normal"} <= set(_checks(result))


class _Flat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.rand(1, 1, 4, 4))

    def forward(self, z):
        return self.bias.expand(len(z), -1, -1, -1) + 0 * z.sum(1)[:, None, None, None]


def test_generator_latent_stability_and_discriminator_attacks(generator_target):
    labeller = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    target = da.Target(
        generator_target.model,
        kind="generator",
        modality="image",
        latent_dim=5,
        discriminator=generator_target.discriminator,
        reference_data=generator_target.reference_data,
        label_model=labeller,
        device="cpu",
    )
    result = robustness(target, n_samples=40, latent_samples=30)
    latent = result.tables["latent_stability"]
    assert len(latent) == 2 * 3
    for radius in {r["radius"] for r in latent}:
        random, worst = (r for r in latent if r["radius"] == radius)
        assert worst["median_rms_change"] >= random["median_rms_change"]
    assert "latent_stability" in _checks(result)
    assert {r["group"] for r in result.tables["curve"] if r["attribute"] == "source"} == {
        "real",
        "generated",
    }
    # A generator that ignores its latent code is perfectly stable.
    target.model = _Flat()
    flat = robustness(target, n_samples=10, latent_samples=10, query_samples=0)
    assert all(r["median_rms_change"] == 0 for r in flat.tables["latent_stability"])
    assert all(r["label_flip_rate"] == 0 for r in flat.tables["latent_stability"])


def test_models_the_family_cannot_attack_are_refused_before_any_work(rng):
    class NoEmbedding(nn.Module):
        def forward(self, ids):
            return torch.stack([ids.float().mean(1), -ids.float().mean(1)], 1)

    text = da.Target(
        NoEmbedding(),
        modality="text",
        data=rng.integers(1, 5, (6, 4)),
        vocab=["<pad>", "a", "b", "c", "d"],
        device="cpu",
    )
    with pytest.raises(NotApplicableError) as info:
        robustness(text)
    assert str(info.value) == (
        "The 'robustness' audit family does not apply to a classifier target with text data: "
        "text attacks move token embeddings, but the model has no single nn.Embedding layer "
        "(name one in target.metadata['embedding_layer'])."
    )
    codes = da.Target(
        nn.Linear(2, 2),
        modality="tabular",
        data=rng.integers(0, 3, (6, 2)).astype(np.float32),
        categorical_features=["x0", "x1"],
        device="cpu",
    )
    with pytest.raises(NotApplicableError, match="no continuous feature an attack may change"):
        robustness(codes)


def test_immutable_features_must_name_features_and_leave_something_to_move(tabular_target):
    with pytest.raises(da.errors.ValidationError) as info:
        robustness(tabular_target, immutable_features=("income", "salary"))
    assert str(info.value) == (
        "The 'immutable_features' parameter of RobustnessConfig must be names of the target's "
        "features. Got ['salary'] instead."
    )
    before = tabular_target.n_evaluations
    config = da.AuditConfig(
        families=["overview", "robustness"],
        options={"robustness": {"immutable_features": ("income", "hours", "edu")}},
        progress=False,
    )
    with pytest.raises(NotApplicableError) as info:
        da.run_audit(tabular_target, config)
    assert str(info.value) == (
        "The 'robustness' audit family does not apply to a classifier target with tabular "
        "data: the table has no continuous feature an attack may change (categorical "
        "features, features named like a sensitive attribute and immutable_features stay "
        "fixed)."
    )
    assert tabular_target.n_evaluations == before  # refused before any family ran
