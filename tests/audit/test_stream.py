"""Streaming targets: the same numbers as in memory, bounded samples, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import deepaudit as da
from deepaudit.audit.fairness.groups import groupings_from_levels, make_groupings
from deepaudit.audit.stream import LEVEL_COUNT, Batch, Reservoir
from deepaudit.errors import NotApplicableError, ValidationError
from tests.audit import scale_toys as toys

FAIRNESS = {"counterfactual": False, "mitigation": False, "n_bootstrap": 200}


def _audit(target: da.Target, **fairness) -> da.AuditBundle:
    options = {"fairness": {**FAIRNESS, **fairness}}
    config = da.AuditConfig(families=["overview", "fairness"], options=options, progress=False)
    return da.run_audit(target, config)


def _numbers(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).select_dtypes("number")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return toys.table()


@pytest.fixture(scope="module")
def in_memory_bundle(frame) -> da.AuditBundle:
    return _audit(toys.in_memory(frame, toys.model()), bootstrap="poisson")


@pytest.mark.parametrize("source", ["parquet", "loader", "iterable"])
def test_streaming_and_in_memory_runs_give_the_same_metrics(
    source, frame, in_memory_bundle, tmp_path
):
    net = toys.model()
    target = {
        "parquet": lambda: toys.from_parquet(frame, net, tmp_path),
        "loader": lambda: toys.from_loader(frame, net),
        "iterable": lambda: toys.from_iterable(frame, net),
    }[source]()
    assert target.streaming and target.n_samples == len(frame)
    streamed = _audit(target, bootstrap="poisson")
    memory = in_memory_bundle
    for key in ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier", "ece"):
        assert streamed["overview"].metrics[key] == pytest.approx(
            memory["overview"].metrics[key], rel=1e-12, abs=1e-12
        ), key
    np.testing.assert_array_equal(
        streamed["overview"].arrays["confusion_matrix"],
        memory["overview"].arrays["confusion_matrix"],
    )
    for table in ("group_metrics", "disparities", "disparity_tests"):
        a, b = streamed["fairness"].tables[table], memory["fairness"].tables[table]
        assert [r.get("group", r.get("check")) for r in a] == [
            r.get("group", r.get("check")) for r in b
        ]
        # The cells are equal, so even the bootstrap draws are: intervals match too.
        np.testing.assert_allclose(_numbers(a), _numbers(b), rtol=1e-9, atol=1e-12)
    assert [f.severity for f in streamed["fairness"].findings] == [
        f.severity for f in memory["fairness"].findings
    ]
    assert streamed["fairness"].metrics["live_rows"] == target.data.shape[0]


def test_the_planted_bias_is_found_in_a_stream(frame, tmp_path):
    streamed = _audit(toys.from_parquet(frame, toys.model(), tmp_path))
    assert streamed["fairness"].metrics["bootstrap"] == "poisson"  # "auto" on a stream
    tests = {(r["grouping"], r["check"]): r for r in streamed["fairness"].tables["disparity_tests"]}
    base = [
        r
        for r in streamed["fairness"].tables["group_metrics"]
        if r["grouping"] == "sex" and r["group"] != "overall"
    ]
    rates = {r["group"]: r["base_rate"] for r in base}
    assert rates["male"] - rates["female"] > 0.2  # planted: males carry +0.8 in the label
    assert tests["sex", "demographic_parity"]["value"] > 0


def test_groupings_from_levels_equal_groupings_from_rows(rng):
    n = 500
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n),
            "race": rng.choice(["a", "b", "c"], n),
            "age": rng.integers(0, 4, n),
        }
    )
    frame["band"] = np.where(frame["age"] > 1, "old", "young")  # determined by age
    attributes = ["sex", "race", "age", "band"]
    rows = make_groupings(frame, attributes, 3, "test")
    counts = frame.value_counts(sort=False)
    levels = counts.index.to_frame(index=False)
    levels[LEVEL_COUNT] = counts.to_numpy()
    from_levels = groupings_from_levels(levels, attributes, 3)
    assert [g.name for g in from_levels] == [g.name for g in rows]
    assert "age & band" not in [g.name for g in rows]  # redundant intersections are skipped
    for a, b in zip(from_levels, rows, strict=True):
        assert a.names == b.names
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.encode(frame), b.codes)


def test_aggregate_overview_agrees_with_scikit_learn_past_exact_rows(frame):
    from sklearn import metrics as skm

    target = toys.in_memory(frame, toys.model())
    options = {"overview": {"exact_rows": 1000}}
    config = da.AuditConfig(families=["overview"], options=options, progress=False)
    aggregate = da.run_audit(target, config)["overview"].metrics
    proba, y = target.predict_proba(), target.labels
    pred = proba.argmax(1)
    assert aggregate["roc_auc_method"].startswith("histogram")
    assert aggregate["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)
    assert aggregate["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert aggregate["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert aggregate["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    assert aggregate["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]), abs=1e-3)
    assert aggregate["roc_auc"] != skm.roc_auc_score(y, proba[:, 1])  # binned, not exact


def test_reservoir_sample_is_seeded_uniform_and_independent_of_batching():
    n, k = 1000, 50

    def sample(seed: int, batch: int) -> np.ndarray:
        reservoir = Reservoir(k, seed)
        x = torch.arange(n, dtype=torch.float32)[:, None]
        for start in range(0, n, batch):
            reservoir.offer(Batch(x[start : start + batch], None, None, start))
        return reservoir.rows()[3]

    first = sample(0, 7)
    np.testing.assert_array_equal(first, sample(0, 7))
    np.testing.assert_array_equal(first, sample(0, 250))  # batch size does not matter
    assert len(set(first)) == k and not np.array_equal(first, sample(1, 7))
    hits = np.zeros(n)
    for seed in range(400):
        hits[sample(seed, 100)] += 1
    # Each row is kept with probability k/n = 5%: 20 of 400 runs on average.
    assert abs(hits[:500].mean() - hits[500:].mean()) < 1.5  # early and late rows alike
    assert hits.mean() == pytest.approx(400 * k / n)
    chi2 = ((hits - 20) ** 2 / 20).sum()
    assert chi2 < 1200  # 999 degrees of freedom: mean 999, sd 45


def test_a_streaming_target_keeps_a_bounded_sample(frame, tmp_path):
    target = toys.from_parquet(frame, toys.model(), tmp_path, sample_size=100, sample_seed=3)
    assert target.data.shape == (100, 4) and len(target.labels) == 100
    index = target.profile.sample_index
    np.testing.assert_array_equal(target.labels, frame["label"].to_numpy()[index])
    np.testing.assert_array_equal(target.sensitive["sex"], frame["sex"].to_numpy()[index])
    np.testing.assert_allclose(target.data.numpy(), frame[toys.FEATURES].to_numpy()[index])
    assert target.feature_ranges["f0"] == pytest.approx(
        (frame["f0"].min(), frame["f0"].max())
    )  # from every row, not from the sample
    described = target.describe()
    assert described["n_samples"] == len(frame)
    assert described["streaming"]["sample_size"] == 100
    with pytest.raises(NotApplicableError, match="streams its data"):
        target.predict_proba()
    explain = da.run_audit(
        target,
        da.AuditConfig(
            families=["explain"],
            options={"explain": {"methods": ["integrated_gradients"], "progress": False}},
            progress=False,
        ),
    )["explain"]
    assert "uniform random sample of 100 rows" in explain.notes[0]


def test_explain_every_row_covers_every_row_of_a_stream(frame, tmp_path):
    target = toys.from_parquet(frame, toys.model(), tmp_path, sample_size=64)
    # Fixed steps: adapted ones come from the explained samples, which differ here.
    options = {
        "explain": {
            "methods": ["integrated_gradients"], "every_row": True, "n_steps": 16,
            "max_steps": 16,
        }
    }  # fmt: skip
    config = da.AuditConfig(families=["explain"], options=options, progress=False)
    result = da.run_audit(target, config)["explain"]
    assert result.metrics["every_row_n"] == len(frame)
    # IG on every row obeys completeness, as on the samples.
    assert result.metrics["every_row_completeness_gap"] < 0.05
    rows = {r["feature"]: r for r in result.tables["every_row_attribution"]}
    assert sum(r["share"] for r in rows.values()) == pytest.approx(1.0)
    # The toy's first layer weighs every feature; the means equal an independent pass.
    memory = da.run_audit(toys.in_memory(frame, toys.model()), config)["explain"]
    for row in memory.tables["every_row_attribution"]:
        assert rows[row["feature"]]["mean_abs_attribution"] == pytest.approx(
            row["mean_abs_attribution"], rel=1e-5
        )


def test_parquet_errors_name_the_argument(frame, tmp_path):
    path = tmp_path / "eval.parquet"
    frame.to_parquet(path)
    net = toys.model()
    with pytest.raises(ValidationError) as error:
        da.Target(net, modality="tabular", data=path, labels="income", sensitive=["sex"])
    columns = ", ".join(frame.columns)
    assert str(error.value) == (
        f"The 'labels' parameter of Target must be columns of the parquet data ({columns}). "
        "Got ['income'] instead."
    )
    with pytest.raises(ValidationError, match="numeric parquet columns"):
        da.Target(net, modality="tabular", data=path, labels="label")  # sex is a string
    with pytest.raises(ValidationError, match="a DataLoader for streamed image data"):
        da.Target(net, modality="image", data=path)


def test_stream_length_mismatch_and_empty_streams_are_refused(frame):
    x = torch.zeros(10, 4)
    loader = DataLoader(TensorDataset(x), batch_size=4)
    with pytest.raises(ValidationError, match="one row per sample"):
        da.Target(toys.model(), modality="tabular", data=loader, labels=np.zeros(12, dtype=int))
    empty = DataLoader(TensorDataset(torch.zeros(0, 4)), batch_size=4)
    with pytest.raises(ValidationError, match="an empty stream"):
        da.Target(toys.model(), modality="tabular", data=empty)


def test_a_streamed_autoencoder_reports_every_rows_error(rng):
    torch.manual_seed(0)
    x = torch.rand(3000, 6)
    net = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.ReLU(), torch.nn.Linear(3, 6))
    kwargs = {"kind": "autoencoder", "modality": "tabular", "anomaly_threshold": 0.6}
    memory = da.Target(net, data=x, **kwargs)
    stream = da.Target(
        net, data=DataLoader(TensorDataset(x), batch_size=500), sample_size=300, **kwargs
    )
    config = da.AuditConfig(families=["overview"], progress=False)
    a = da.run_audit(memory, config)["overview"]
    b = da.run_audit(stream, config)["overview"]
    assert b.metrics["n_samples"] == 3000
    assert b.metrics["mean_error"] == pytest.approx(a.metrics["mean_error"], rel=1e-6)
    assert b.metrics["flag_rate"] == a.metrics["flag_rate"]
    assert 0 < a.metrics["flag_rate"] < 1
    assert len(b.arrays["errors"]) == 300  # the distribution is drawn from the sample


def test_a_streamed_autoencoders_flag_rates_by_group_cover_every_row(rng):
    torch.manual_seed(0)
    n = 3000
    group = rng.choice(["a", "b"], n, p=[0.7, 0.3])
    x = torch.rand(n, 6) + torch.from_numpy((group == "b")[:, None] * 0.6).float()
    net = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.ReLU(), torch.nn.Linear(3, 6))
    kwargs = {"kind": "autoencoder", "modality": "tabular", "anomaly_threshold": 0.9}
    memory = da.Target(net, data=x, sensitive={"group": group}, **kwargs)
    stream = da.Target(
        net,
        data=DataLoader(TensorDataset(x), batch_size=400),
        sensitive={"group": group},
        sample_size=200,
        **kwargs,
    )
    options = {"fairness": {"counterfactual": False, "n_bootstrap": 300}}
    config = da.AuditConfig(families=["fairness"], options=options, progress=False)
    a = da.run_audit(memory, config)["fairness"]
    b = da.run_audit(stream, config)["fairness"]
    assert b.metrics["bootstrap"] == "poisson" and b.metrics["live_rows"] == 200
    for row_a, row_b in zip(a.tables["anomaly_groups"], b.tables["anomaly_groups"], strict=True):
        assert row_b["group"] == row_a["group"] and row_b["count"] == row_a["count"]
        assert row_b["flag_rate"] == row_a["flag_rate"]
        assert row_b["mean_error"] == pytest.approx(row_a["mean_error"], rel=1e-6)
        for metric in ("flag_rate", "mean_error"):  # Poisson vs ordinary: similar widths
            width_a = row_a[f"{metric}_high"] - row_a[f"{metric}_low"]
            width_b = row_b[f"{metric}_high"] - row_b[f"{metric}_low"]
            assert row_b[f"{metric}_low"] <= row_b[metric] <= row_b[f"{metric}_high"]
            assert 0.7 < width_b / width_a < 1.4, (metric, row_a["group"])
    rates = {r["group"]: r["flag_rate"] for r in b.tables["anomaly_groups"]}
    assert rates["b"] > rates["a"] + 0.2  # the planted shift makes group b unusual
    assert b.tables["disparity_tests"][0]["severity"] == "fail"


@pytest.mark.parametrize("name", ["sample_size", "sample_seed"])
def test_bad_sample_settings_are_refused_with_their_name(name, frame, tmp_path):
    from deepaudit.audit.target import _CONSTRAINTS
    from tests.helpers import expected_parameter_message

    constraints = _CONSTRAINTS[name]
    bad = constraints[-1].invalid_example()
    with pytest.raises(ValidationError) as error:
        toys.from_parquet(frame, toys.model(), tmp_path, **{name: bad})
    assert str(error.value) == expected_parameter_message("Target", name, constraints, bad)


def test_mitigation_of_a_stream_is_that_of_its_sample(frame, tmp_path):
    target = toys.from_parquet(frame, toys.model(), tmp_path, sample_size=500)
    options = {"fairness": {"counterfactual": False, "n_bootstrap": 50}}
    config = da.AuditConfig(families=["fairness"], options=options, progress=False)
    streamed = da.run_audit(target, config)["fairness"]
    sample = da.run_audit(target.sample_target(), config)["fairness"]
    assert streamed.tables["mitigation"] == sample.tables["mitigation"]
    assert streamed.metrics["accuracy_after"] == sample.metrics["accuracy_after"]
    assert any("mitigation and counterfactual checks used" in n for n in streamed.notes)


def test_every_row_attribution_equals_captum_on_every_row(frame):
    from captum.attr import IntegratedGradients

    net = toys.model()
    target = toys.in_memory(frame, net)
    options = {"explain": {"methods": ["integrated_gradients"], "every_row": True}}
    config = da.AuditConfig(families=["explain"], options=options, progress=False)
    result = da.run_audit(target, config)["explain"]
    rows = result.tables["every_row_attribution"]
    # Independently: captum's IG on all rows at once, from the column means, on the
    # predicted class, with the steps the family chose.
    x = torch.tensor(frame[toys.FEATURES].to_numpy())
    baseline = x.double().mean(dim=0).float().expand_as(x)
    with torch.no_grad():
        classes = net(x).argmax(dim=1)
    attr = IntegratedGradients(net).attribute(
        x, baselines=baseline, target=classes, n_steps=result.metrics["every_row_ig_steps"]
    )
    expected = attr.abs().double().mean(dim=0).numpy()
    got = {r["feature"]: r["mean_abs_attribution"] for r in rows}
    np.testing.assert_allclose([got[f] for f in toys.FEATURES], expected, rtol=1e-4)
