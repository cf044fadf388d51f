"""The attacks: bounds always respected, known answers on a linear model, agreement with
captum's PGD, and what ε = 0 means."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.robust import PGD as CaptumPGD

from deepaudit.audit.robustness import (
    AttackSpace,
    fgsm,
    image_space,
    misclassification,
    mutable_columns,
    pgd,
    square_attack,
    tabular_space,
    text_space,
)
from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.space import embedding_layer
from deepaudit.audit.robustness.sweep import sweep

TOL = 1e-5


def _space(target, norm: str = "Linf") -> AttackSpace:
    def logits(x, rows):
        return target.score_tensor(x)

    if target.modality == "image":
        return image_space(target.data, target.input_range, logits)
    if target.modality == "tabular":
        return tabular_space(target, target.data, mutable_columns(target, ("age",)), logits)
    layer = embedding_layer(target.model)
    return text_space(target, layer, target.data, norm)


def _attacks(space, objective, eps, norm):
    rows = torch.arange(space.n)
    per_sample = torch.linspace(0.5, 1.5, space.n) * eps
    yield "pgd", pgd(space, rows, objective, eps, norm=norm, steps=5).eta, eps
    yield (
        "pgd-random",
        pgd(space, rows, objective, eps, norm=norm, steps=3, random_init=True).eta,
        eps,
    )
    yield (
        "pgd-restarts-last",
        pgd(space, rows, objective, eps, norm=norm, steps=3, restarts=3, mode="last").eta,
        eps,
    )
    yield (
        "pgd-per-sample",
        pgd(space, rows, objective, per_sample, norm=norm, steps=4).eta,
        per_sample,
    )
    if norm == "Linf":
        yield "fgsm", fgsm(space, rows, objective, eps).eta, eps
        image = space.x0.ndim == 4
        yield "square", square_attack(space, rows, objective, eps, budget=20, image=image).eta, eps


def _check_bounds(space: AttackSpace, eta, eps, norm):
    rows = torch.arange(space.n)
    eps = torch.as_tensor(eps).expand(space.n)
    flat = eta.flatten(1)
    if norm == "Linf":
        assert torch.all(flat.abs().max(dim=1).values <= eps + TOL)
    else:
        assert torch.all(flat.norm(dim=1) <= eps * (1 + TOL) + TOL)
    lower, upper = space.bounds(rows)
    assert torch.all(eta >= lower - TOL) and torch.all(eta <= upper + TOL)
    frozen = space.free(rows) == 0
    assert torch.all(eta[frozen] == 0)


@pytest.mark.parametrize("norm", ["Linf", "L2"])
@pytest.mark.parametrize("fixture", ["image_target", "mixed_table", "text_target"])
def test_every_perturbation_respects_the_norm_bound_and_the_input_bounds(fixture, norm, request):
    target = request.getfixturevalue(fixture)
    space = _space(target, norm)
    objective = misclassification(torch.as_tensor(target.labels))
    eps = {"image": 8 / 255, "tabular": 0.3, "text": 0.5}[target.modality]
    if norm == "L2":
        eps *= 4
    for name, eta, bound in _attacks(space, objective, eps, norm):
        _check_bounds(space, eta, bound, norm)
        x = space.inputs(eta, torch.arange(space.n))
        if target.modality == "image":
            assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0, name
        if target.modality == "tabular":
            moved = (x - target.data).abs().amax(dim=0) > 0
            names = [target.feature_names[j] for j in np.flatnonzero(moved.numpy())]
            assert set(names) <= {"income", "hours"}, name  # one-hot colour and age never move
            onehot = x[:, 2:5]
            assert torch.equal(onehot, target.data[:, 2:5]) and torch.all(onehot.sum(1) == 1)
            # Income stays in its given range [-2, 2], or between it and where it started.
            start = target.data[:, 0]
            assert torch.all(x[:, 0] >= torch.clamp(start, max=-2.0) - TOL), name
            assert torch.all(x[:, 0] <= torch.clamp(start, min=2.0) + TOL), name


def test_the_sweep_keeps_each_saved_perturbation_within_the_epsilon_that_broke_it(image_target):
    space = _space(image_target)
    objective = misclassification(torch.as_tensor(image_target.labels))
    grid = (1 / 255, 4 / 255, 16 / 255)
    sw = sweep(space, objective, "Linf", grid, RobustnessConfig(), torch.Generator(), 64)
    broken = np.flatnonzero((sw.broken_at >= 0) & (sw.broken_at < len(grid)))
    assert len(broken) > 0
    for i in broken:
        assert float(sw.eta[i].abs().max()) <= grid[sw.broken_at[i]] + TOL
        assert sw.flip_epsilon[i] <= grid[sw.broken_at[i]] + TOL
    assert np.all(sw.flip_epsilon[sw.broken_at < 0] == 0)


def test_epsilon_zero_changes_nothing_and_breaks_only_what_was_already_wrong(image_target):
    space = _space(image_target)
    labels = torch.as_tensor(image_target.labels)
    objective = misclassification(labels)
    rows = torch.arange(space.n)
    wrong = image_target.predict() != image_target.labels
    for norm in ("Linf", "L2"):
        result = pgd(space, rows, objective, 0.0, norm=norm, steps=5, random_init=True, mode="last")
        assert torch.count_nonzero(result.eta) == 0
        np.testing.assert_array_equal(result.success.numpy(), wrong)
    assert torch.count_nonzero(fgsm(space, rows, objective, 0.0).eta) == 0


def test_the_minimal_flipping_epsilon_of_a_linear_model_matches_its_closed_form(linear_target):
    """For z = w·x + b the smallest L∞ flip is |z| / ||w||₁ and the smallest L2 flip is
    |z| / ||w||₂; PGD plus bisection must bracket it from above, within the bisection's
    resolution."""
    w = linear_target.model.w.detach()
    x = torch.rand(40, 16, generator=torch.Generator().manual_seed(5)) * 0.1 + 0.45
    z = x @ w + linear_target.model.b
    labels = (z > 0).long()
    space = AttackSpace(
        x,
        torch.ones(1, 1),
        torch.full((1, 1), -math.inf),
        torch.full((1, 1), math.inf),
        lambda inputs, rows: torch.cat(
            [torch.zeros(len(inputs), 1), linear_target.model(inputs)], 1
        ),
        "units",
    )
    for tolerance in (0.1, 0.01):  # the default, and a finer one
        options = RobustnessConfig(flip_tolerance=tolerance, bisection_steps=20)
        for norm, dual in (("Linf", 1), ("L2", 2)):
            exact = (z.abs() / w.norm(p=dual)).numpy()
            grid = tuple(float(e) for e in np.geomspace(exact.min() / 2, exact.max() * 2, 4))
            sw = sweep(space, misclassification(labels), norm, grid, options, torch.Generator(), 64)
            ratio = sw.flip_epsilon / exact
            assert np.all(ratio >= 1 - 1e-4), norm
            assert np.all(ratio <= (1 + tolerance) * 1.001), (norm, tolerance)
            assert np.all(sw.flip_low <= exact * (1 + 1e-4)), norm  # it stood there
            if tolerance == 0.1:  # not finer than asked: the steps are spent where needed
                assert ratio.max() > 1.01, norm


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
@pytest.mark.parametrize("norm", ["Linf"])
def test_pgd_agrees_with_captum_pgd_on_the_same_steps(image_target, norm):
    """Last iterate, no random start: the textbook algorithm both implement."""
    x = image_target.data
    labels = torch.as_tensor(image_target.predict())  # clean accuracy 100%
    eps, alpha, steps = 0.05, 0.01, 10
    space = _space(image_target)
    ours = pgd(
        space,
        torch.arange(len(x)),
        misclassification(labels),
        eps,
        norm=norm,
        steps=steps,
        relative_step_size=alpha / eps,
        mode="last",
    )
    captum = CaptumPGD(
        image_target.model,
        loss_func=lambda out, y: F.cross_entropy(out, y, reduction="none"),
        lower_bound=0.0,
        upper_bound=1.0,
    ).perturb(x.clone(), radius=eps, step_size=alpha, step_num=steps, target=labels, norm=norm)
    ours_x = space.inputs(ours.eta, torch.arange(len(x)))
    same = (ours_x - captum).flatten(1).abs().max(dim=1).values < 1e-5
    assert same.float().mean() >= 0.9  # captum skips gradient entries below 1e-6
    with torch.no_grad():
        captum_wrong = image_target.model(captum).argmax(1) != labels
    assert abs(int(ours.success.sum()) - int(captum_wrong.sum())) <= 1


def test_early_stopping_never_reports_fewer_breaks_than_the_last_iterate(image_target):
    space = _space(image_target)
    labels = torch.as_tensor(image_target.predict())
    rows = torch.arange(space.n)
    for eps in (2 / 255, 8 / 255):
        stop = pgd(space, rows, misclassification(labels), eps, steps=10)
        last = pgd(space, rows, misclassification(labels), eps, steps=10, mode="last")
        assert bool(torch.all(stop.success | ~last.success))


def test_square_attack_breaks_a_model_without_gradients(quantised_target):
    space = _space(quantised_target)
    labels = torch.as_tensor(quantised_target.labels)
    rows = torch.arange(space.n)
    white_box = pgd(space, rows, misclassification(labels), 0.1, steps=10)
    query = square_attack(
        space, rows, misclassification(labels, "margin"), 0.1, budget=100, image=True
    )
    assert int(white_box.success.sum()) == 0
    assert int(query.success.sum()) >= 5


def test_text_embedding_space_freezes_padding(text_target):
    space = _space(text_target, "L2")
    rows = torch.arange(space.n)
    assert torch.all(space.free(rows)[text_target.data == 0] == 0)
    assert torch.all(space.free(rows)[text_target.data != 0] == 1)
