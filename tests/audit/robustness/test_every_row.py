"""RobustnessConfig(every_row=True): PGD on every row, counted exactly per group, the
same whatever the batch boundaries, in memory or streamed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import deepaudit as da
from deepaudit.audit.robustness import RobustnessConfig
from deepaudit.audit.robustness.attacks import evaluate, pgd
from deepaudit.audit.robustness.every_row import TABLE, every_row_results
from deepaudit.audit.robustness.objectives import misclassification
from deepaudit.audit.robustness.space import image_space, mutable_columns, tabular_space
from deepaudit.results import FamilyResult
from tests.audit.robustness.conftest import robustness

N = 240
EPSILONS = (0.02, 0.05, 0.1, 0.2)
#: The in-depth part of the family as cheap as it goes: these tests read every_row.
CHEAP = {
    "n_samples": 20,
    "natural_samples": 0,
    "query_samples": 0,
    "monotonicity_samples": 0,
    "bisection_steps": 0,
    "fgsm": "none",
    "n_examples": 0,
}


def _toy() -> tuple[np.ndarray, np.ndarray, nn.Module, dict[str, np.ndarray]]:
    """A three-class MLP on four features, labels mostly its own predictions, and two
    sensitive attributes (one of them integer-coded)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        predicted = net(torch.from_numpy(x)).argmax(dim=1).numpy()
    labels = np.where(rng.random(N) < 0.8, predicted, rng.integers(0, 3, N))
    sensitive = {"sex": rng.choice(["f", "m"], N), "band": rng.integers(0, 3, N)}
    return x, labels, net, sensitive


@pytest.fixture
def table_target() -> da.Target:
    x, labels, net, sensitive = _toy()
    return da.Target(net, modality="tabular", data=x, labels=labels, sensitive=sensitive)


def _every_row(target: da.Target, seed: int = 0, **options) -> FamilyResult:
    result = FamilyResult("robustness")
    config = RobustnessConfig(progress=False, **options)
    every_row_results(result, target, config, seed)
    return result


def _by_group(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        out.setdefault((row["attribute"], row["group"]), []).append(row)
    return out


def _independent(target: da.Target, space, options: RobustnessConfig) -> np.ndarray:
    """Rows still correct at each ε: PGD from the clean point on all rows at once, at
    every ε of the grid independently, with the family's settings; a row broken at an ε
    is broken at every larger one (the ball there contains the perturbation)."""
    rows = torch.arange(target.n_samples)
    objective = misclassification(torch.as_tensor(target.labels), options.loss)
    standing = ~evaluate(space, rows, objective).success.numpy()
    out = []
    for eps in options.grid("Linf", target.modality):
        broken = pgd(
            space,
            rows,
            objective,
            eps,
            norm="Linf",
            steps=options.steps,
            relative_step_size=options.relative_step_size,
            restarts=options.restarts,
        ).success.numpy()
        standing = standing & ~broken
        out.append(standing)
    return np.asarray(out)


@pytest.mark.parametrize("modality", ["tabular", "image"])
def test_robust_accuracy_is_pgd_on_every_row_counted_exactly(modality, table_target, request):
    if modality == "tabular":
        target = table_target
        columns = mutable_columns(target)
        space = tabular_space(target, target.data, columns, lambda x, rows: target.score_tensor(x))
        options = RobustnessConfig(progress=False, epsilons=EPSILONS)
    else:
        target = request.getfixturevalue("linear_target")  # 120 images, batches of 32
        target.batch_size = 32
        space = image_space(target.data, target.input_range, lambda x, rows: target.score_tensor(x))
        options = RobustnessConfig(progress=False)
    assert options.restarts == 1 and not options.random_start  # PGD is deterministic
    expected = _independent(target, space, options)
    assert expected[0].sum() > expected[-1].sum()  # the attack does break rows

    result = FamilyResult("robustness")
    every_row_results(result, target, options, seed=0)
    overall = _by_group(result.tables[TABLE])[("overall", "all")]
    grid = options.grid("Linf", target.modality)
    assert [r["eps"] for r in overall] == list(grid)
    assert [round(r["robust_accuracy"] * r["n"]) for r in overall] == [
        int(s.sum()) for s in expected
    ]
    assert all(r["n"] == target.n_samples for r in overall)
    assert result.metrics["every_row_n"] == target.n_samples
    assert result.metrics["every_row_norm"] == "Linf"
    if modality == "tabular":  # per group too: rows in a group still standing
        groups = _by_group(result.tables[TABLE])
        for value in ("f", "m"):
            mask = target.sensitive["sex"].to_numpy() == value
            counts = [round(r["robust_accuracy"] * r["n"]) for r in groups[("sex", value)]]
            assert counts == [int(s[mask].sum()) for s in expected]


def test_group_counts_add_up_to_the_overall_counts(table_target):
    rows = _every_row(table_target, epsilons=EPSILONS).tables[TABLE]
    groups = _by_group(rows)
    assert list(groups) == [
        ("overall", "all"), ("sex", "f"), ("sex", "m"), ("band", "0"), ("band", "1"),
        ("band", "2"),
    ]  # fmt: skip
    sizes = {
        attribute: table_target.sensitive[attribute].astype(str).value_counts().to_dict()
        for attribute in ("sex", "band")
    }
    overall = groups[("overall", "all")]
    for attribute in ("sex", "band"):
        parts = {g: r for (a, g), r in groups.items() if a == attribute}
        assert {g: r[0]["n"] for g, r in parts.items()} == sizes[attribute]
        for k, row in enumerate(overall):
            robust = sum(round(r[k]["robust_accuracy"] * r[k]["n"]) for r in parts.values())
            clean = sum(round(r[k]["clean_accuracy"] * r[k]["n"]) for r in parts.values())
            assert robust == round(row["robust_accuracy"] * row["n"])
            assert clean == round(row["clean_accuracy"] * row["n"])
    for part in groups.values():  # never rising with ε, never above clean accuracy
        values = [r["robust_accuracy"] for r in part]
        assert values == sorted(values, reverse=True)
        assert values[0] <= part[0]["clean_accuracy"]
        assert all(r["low"] <= r["robust_accuracy"] <= r["high"] for r in part)


@pytest.mark.parametrize(
    "attack",
    [{}, {"random_start": True, "restarts": 2}],
    ids=["deterministic", "random-starts"],
)
def test_a_streamed_target_gives_the_in_memory_table(attack):
    x, labels, net, sensitive = _toy()
    memory = da.Target(net, modality="tabular", data=x, labels=labels, sensitive=sensitive)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(labels)), batch_size=37)
    streamed = da.Target(net, modality="tabular", data=loader, sensitive=sensitive)
    assert streamed.streaming and memory.batch_size >= N  # one batch against seven
    options = CHEAP | attack | {"every_row": True, "epsilons": EPSILONS}
    in_memory = robustness(memory, **options)
    from_stream = robustness(streamed, **options)
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_stream.tables[TABLE]), pd.DataFrame(in_memory.tables[TABLE])
    )
    assert from_stream.metrics["every_row_n"] == N
    assert from_stream.metrics["every_row_evaluations"] > 0
    assert from_stream.notes[0].startswith(f"The data streams ({N} rows)")
    assert not any(n.startswith("The data streams") for n in in_memory.notes)
    if attack:  # random starts: another seed draws other starts, here other numbers
        other = robustness(memory, seed=1, **options).tables[TABLE]
        assert other != in_memory.tables[TABLE]


def test_text_rows_are_attacked_in_the_embedding_and_other_kinds_are_skipped(
    flip_word_target, autoencoder_target
):
    for random_start in (False, True):  # random starts are drawn in the embedding space
        result = _every_row(flip_word_target, epsilons=(0.2, 0.5), random_start=random_start)
        rows = result.tables[TABLE]
        assert all(r["n"] == 4 and r["clean_accuracy"] == 1.0 for r in rows)
        assert [r["robust_accuracy"] for r in rows] == [1.0, 0.0]  # half a word vector flips
    result = robustness(autoencoder_target, every_row=True, **CHEAP)
    assert TABLE not in result.tables
    assert any(n.startswith("every_row was skipped") for n in result.notes)


def test_without_labels_the_clean_predictions_are_the_labels(table_target):
    table_target.labels = None
    rows = _every_row(table_target, epsilons=EPSILONS).tables[TABLE]
    assert all(r["clean_accuracy"] == 1.0 for r in rows)
    assert 0 < rows[-1]["robust_accuracy"] < 1
