"""Natural corruptions with known answers, and the natural-perturbation table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepaudit.audit.robustness.corruptions import (
    KEYBOARD_NEIGHBOURS,
    Retokenizer,
    blur,
    change_case,
    character_swap,
    perturb_images,
    perturb_table,
    typo,
)
from tests.audit.robustness.conftest import robustness


def test_blur_keeps_a_constant_image_and_a_blurred_image_keeps_its_mean():
    flat = torch.full((2, 3, 9, 9), 0.3)
    torch.testing.assert_close(blur(flat, 1.0), flat)
    x = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    blurred = blur(x, 1.0)
    assert blurred.shape == x.shape
    assert float(blurred.std()) < float(x.std())  # smoother
    assert float(blurred.mean()) == pytest.approx(float(x.mean()), abs=0.02)


def test_image_corruptions_have_their_stated_effect_and_stay_in_range():
    rng = np.random.default_rng(0)
    x = torch.rand(5, 3, 10, 10, generator=torch.Generator().manual_seed(1)) * 0.8 + 0.1
    bright = perturb_images(x, "brightness", 0.2, (0.0, 1.0), rng)
    torch.testing.assert_close(bright, (x + 0.2).clamp(0, 1))
    same = perturb_images(x, "contrast", 1.0, (0.0, 1.0), rng)
    torch.testing.assert_close(same, x)
    flat = perturb_images(x, "contrast", 0.0, (0.0, 1.0), rng)
    torch.testing.assert_close(flat, x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x))
    occluded = perturb_images(x, "occlusion", 0.3, (0.0, 1.0), rng)
    changed = (occluded != x).all(dim=1).flatten(1).sum(1)
    assert changed.tolist() == [9] * 5  # a 3×3 patch (0.3 × 10) set to the lower bound
    noisy = perturb_images(x, "gaussian_noise", 0.5, (0.0, 1.0), rng)
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 1


def test_table_noise_touches_only_the_given_columns_and_respects_their_ranges():
    rng = np.random.default_rng(0)
    x = torch.zeros(50, 4)
    x[0, 1] = 9.0  # starts outside its range: the clip may not pull it further out
    lower, upper = torch.full((4,), -1.0), torch.full((4,), 1.0)
    out = perturb_table(x, [1, 3], torch.ones(4), lower, upper, 2.0, rng)
    assert torch.equal(out[:, [0, 2]], x[:, [0, 2]])
    assert float(out[1:, [1, 3]].abs().max()) <= 1.0
    assert -1.0 <= float(out[0, 1]) <= 9.0
    assert float(out[:, 3].std()) > 0.3


def test_word_operations():
    rng = np.random.default_rng(0)
    assert sorted(character_swap("abcd", rng)) == list("abcd")
    assert character_swap("a", rng) == "a"
    for _ in range(50):
        changed = typo("movie", rng)
        assert abs(len(changed) - 5) <= 1
        assert sum(a != b for a, b in zip(changed, "movie", strict=False)) >= 1 or len(changed) != 5
    assert change_case("movie", np.random.default_rng(1)) in {"MOVIE", "Movie"}
    assert set(KEYBOARD_NEIGHBOURS["a"]) == set("qwsz")
    assert set(KEYBOARD_NEIGHBOURS["g"]) == set("tyfhvb")


def test_retokenizer_folds_case_for_a_lower_case_vocabulary_and_maps_the_rest_to_unknown():
    vocab = ["<pad>", "<unk>", "good", "film"]
    tok = Retokenizer(vocab)
    assert tok.lowercase and tok.unknown == 1
    assert tok.id_of("GOOD") == 2 and tok.id_of("goood") == 1
    ids = np.array([[2, 3, 0], [3, 0, 0]])
    mask = np.array([False, False, True, True])
    upper = tok.perturb(ids, lambda w, r: w.upper(), 1.0, np.random.default_rng(0), mask)
    np.testing.assert_array_equal(upper, ids)  # the model never sees case
    cased = Retokenizer(["<pad>", "[UNK]", "Good", "good"])
    assert not cased.lowercase and cased.id_of("GOOD") == 1


def test_the_natural_table_reports_accuracy_drops_per_group(tabular_target):
    result = robustness(tabular_target, natural_samples=100, natural_levels=3, n_samples=20)
    rows = result.tables["natural"]
    assert {r["severity"] for r in rows} == {0.05, 0.1, 0.25}
    for r in rows:
        assert r["drop"] == pytest.approx(r["clean_accuracy"] - r["accuracy"])
    assert any(f.check == "natural_perturbations" for f in result.findings)
