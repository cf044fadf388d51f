"""The shared training loop: every recipe learns, runs repeat, early stopping works."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from deepaudit.errors import ValidationError
from deepaudit.models import list_models
from deepaudit.models import training as tr
from deepaudit.models.registry import get_recipe

SMOKE_STEPS = {"gan": 30}


def _smoke(name, seed=0, steps=None, limit=128):
    recipe = get_recipe(name)
    steps = steps or SMOKE_STEPS.get(name, 24)
    config = replace(recipe.config, epochs=1000, max_steps=steps, validation=False, progress=False)
    tr.seed_everything(seed)
    return recipe.train(seed=seed, device="cpu", config=config, limit=limit)


@pytest.mark.parametrize("name", list_models())
def test_loss_falls_in_a_few_steps_on_a_small_slice(name):
    trained = _smoke(name)
    losses = trained.result.step_losses
    assert len(losses) == SMOKE_STEPS.get(name, 24)
    assert np.mean(losses[-4:]) < np.mean(losses[:4]), losses


@pytest.mark.parametrize("name", list_models())
def test_same_seed_gives_the_same_weights(name):
    first = _smoke(name, seed=7, steps=2, limit=64)
    second = _smoke(name, seed=7, steps=2, limit=64)
    for module in first.modules:
        a, b = first.modules[module].state_dict(), second.modules[module].state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{module}.{key}"


def test_another_seed_gives_other_weights():
    a = _smoke("digit_classifier", seed=1, steps=2, limit=64).modules["model"]
    b = _smoke("digit_classifier", seed=2, steps=2, limit=64).modules["model"]
    assert not torch.equal(a.head.weight, b.head.weight)


def _toy_problem(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def test_early_stopping_restores_the_best_epoch():
    x, y = _toy_problem()
    model = nn.Linear(4, 2)
    scores = iter([3.0, 1.0, 2.0, 2.5, 2.7, 2.9])
    snapshots = []

    def validate():
        snapshots.append(model.weight.detach().clone())
        return next(scores)

    config = tr.TrainConfig(epochs=6, batch_size=64, patience=2, progress=False)
    result = tr.fit(
        {"model": model},
        lambda m: {"model": torch.optim.SGD(m["model"].parameters(), lr=0.1)},
        lambda opt: tr.supervised_step(model, "model", nn.CrossEntropyLoss(), opt),
        (x, y),
        validate=validate,
        config=config,
        seed=0,
        device="cpu",
    )
    assert result.epochs_run == 4  # epochs 3 and 4 were worse than epoch 2
    assert result.best_epoch == 2 and result.best_score == 1.0
    assert torch.equal(model.weight, snapshots[1])
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert result.seconds_per_epoch > 0 and not result.mixed_precision
    assert not model.training


def test_min_epochs_holds_off_early_stopping():
    x, y = _toy_problem()
    model = nn.Linear(4, 2)
    config = tr.TrainConfig(epochs=5, batch_size=64, patience=1, min_epochs=4, progress=False)
    result = tr.fit(
        {"model": model},
        lambda m: {"model": torch.optim.SGD(m["model"].parameters(), lr=0.1)},
        lambda opt: tr.supervised_step(model, "model", nn.CrossEntropyLoss(), opt),
        (x, y),
        validate=lambda: 1.0,
        config=config,
        seed=0,
        device="cpu",
    )
    assert result.epochs_run == 4


def test_a_step_without_a_loss_is_refused():
    x, y = _toy_problem(8)
    with pytest.raises(ValidationError) as info:
        tr.fit(
            {"model": nn.Linear(4, 2)},
            lambda m: {},
            lambda opt: lambda batch, ctx: {"value": 1.0},
            (x, y),
            validate=None,
            config=tr.TrainConfig(epochs=1, progress=False),
            seed=0,
            device="cpu",
        )
    assert str(info.value) == tr.MISSING_LOSS_MESSAGE.format(keys=["value"])


def test_a_diverging_loss_stops_training():
    x, y = _toy_problem(8)
    with pytest.raises(ValidationError) as info:
        tr.fit(
            {"model": nn.Linear(4, 2)},
            lambda m: {},
            lambda opt: lambda batch, ctx: {"loss": float("nan")},
            (x, y),
            validate=None,
            config=tr.TrainConfig(epochs=1, progress=False),
            seed=0,
            device="cpu",
            desc="toy",
        )
    assert str(info.value) == tr.NON_FINITE_LOSS_MESSAGE.format(desc="toy", value="nan", step=0)


def test_cpu_runs_without_autocast_or_scaler():
    ctx = tr.StepContext(torch.device("cpu"), mixed_precision=False)
    with ctx.autocast():
        assert not torch.is_autocast_enabled()
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = model.weight.detach().clone()
    ctx.backward_step(model(torch.ones(1, 2)).sum(), opt, clip_norm=0.5)
    assert not torch.equal(before, model.weight)
    assert ctx._scalers == {}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_uses_mixed_precision():
    x, y = _toy_problem()
    model = nn.Linear(4, 2)
    result = tr.fit(
        {"model": model},
        lambda m: {"model": torch.optim.SGD(m["model"].parameters(), lr=0.1)},
        lambda opt: tr.supervised_step(model, "model", nn.CrossEntropyLoss(), opt),
        (x, y),
        validate=None,
        config=tr.TrainConfig(epochs=2, batch_size=64, progress=False),
        seed=0,
        device="cuda",
    )
    assert result.mixed_precision and result.device.startswith("cuda")
