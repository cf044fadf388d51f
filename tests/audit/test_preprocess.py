"""Raw tabular data behind a fitted ColumnTransformer: the audit works in raw columns."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

import deepaudit as da
from deepaudit.errors import ValidationError

RAW_COLUMNS = ["age", "workclass", "hours", "colour"]


def _raw(n=300, seed=0):
    rng = np.random.default_rng(seed)
    raw = pd.DataFrame(
        {
            "age": rng.integers(18, 70, n).astype(float),
            "workclass": rng.choice(["Private", "Gov", "Self-emp"], n, p=[0.6, 0.25, 0.15]),
            "hours": rng.normal(40, 8, n),
            "colour": rng.choice(["red", "blue"], n),
        }
    )
    y = ((raw["age"] > 40) ^ (raw["workclass"] == "Gov")).astype(int).to_numpy()
    return raw, y, rng.choice(["f", "m"], n)


def _transformer(raw):
    return ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "hours"]),
            ("cat", OneHotEncoder(sparse_output=False), ["workclass", "colour"]),
        ]
    ).fit(raw)


@pytest.fixture(scope="module")
def audited():
    raw, y, sex = _raw()
    torch.manual_seed(0)
    model = torch.nn.Linear(7, 2)  # linear: IG is exactly w · (x - baseline) per column
    target = da.Target(
        model,
        modality="tabular",
        data=raw,
        preprocess=_transformer(raw),
        labels=y,
        sensitive={"sex": sex},
        device="cpu",
    )
    bundle = da.run_audit(
        target,
        da.AuditConfig(
            families=["explain", "fairness", "robustness"],
            options={"explain": {"methods": ["integrated_gradients"], "n_samples": 12}},
            progress=False,
        ),
    )
    return raw, target, bundle


def test_each_raw_column_is_one_feature_and_strings_are_categories(audited):
    raw, target, _ = audited
    assert list(target.feature_groups) == ["age", "hours", "workclass", "colour"]  # model order
    assert target.categorical == ["workclass", "colour"]
    assert target.feature_groups["workclass"] == [2, 3, 4]
    assert target.feature_names[2:5] == ["workclass=Gov", "workclass=Private", "workclass=Self-emp"]
    decoded = target.raw_columns.decode(target.data.numpy())
    assert list(decoded["workclass"]) == list(raw["workclass"])
    np.testing.assert_allclose(decoded["age"], raw["age"], rtol=1e-5)


def test_explanations_name_raw_columns_and_sum_the_encoded_attributions(audited):
    raw, target, bundle = audited
    result = bundle["explain"]
    assert [r.feature for r in result.rows("global_importance")] == list(target.feature_groups)
    assert set(target.feature_groups) == set(RAW_COLUMNS)
    assert "summed to their raw column" in result.notes[0]
    inputs = result.arrays["inputs"].astype(np.float64)
    classes = result.arrays["classes"]
    weights = target.model.weight.detach().double().numpy()[classes]  # row per sample
    data = target.data.double().numpy()
    baseline = data.mean(axis=0)
    for column in ("workclass", "colour"):  # a category's "absent" is its most frequent one
        cols = target.feature_groups[column]
        frequent = np.bincount(data[:, cols].argmax(axis=1), minlength=len(cols)).argmax()
        baseline[cols] = np.eye(len(cols))[frequent]
    encoded = weights * (inputs - baseline)  # IG of a linear model, column by column
    expected = np.stack(
        [encoded[:, cols].sum(axis=1) for cols in target.feature_groups.values()], 1
    )
    np.testing.assert_allclose(
        result.arrays["attributions_integrated_gradients"], expected, atol=1e-4
    )
    values = result.arrays["feature_values"]
    assert set(values[:, 2]) <= set(raw["workclass"])  # shown as raw categories
    ages = values[:, 0].astype(float)
    assert ((ages >= 18) & (ages < 70)).all()  # and raw numbers, not standardised ones


def test_perturbed_rows_keep_valid_categories(audited):
    _, target, bundle = audited
    robustness = bundle["robustness"]
    original = robustness.arrays["examples_original"]
    adversarial = robustness.arrays["examples_adversarial"]
    for cols in (target.feature_groups["workclass"], target.feature_groups["colour"]):
        np.testing.assert_array_equal(adversarial[:, cols], original[:, cols])  # not moved
        assert set(adversarial[:, cols].sum(axis=1)) == {1.0}
    for row in robustness.rows("examples"):
        named = [part.split(":")[0] for part in row.changes.split("; ") if part]
        assert set(named) <= {"age", "hours"}  # changes named and valued in raw columns


def test_a_transformer_that_mixes_columns_or_is_not_fitted_is_refused():
    raw, _, _ = _raw(60)
    numeric = raw[["age", "hours"]]
    mixing = PolynomialFeatures(2, interaction_only=True, include_bias=False).fit(numeric)
    with pytest.raises(ValidationError, match="encoded column 2 made from"):
        da.Target(torch.nn.Linear(3, 2), modality="tabular", data=numeric, preprocess=mixing)
    unfitted = ColumnTransformer([("num", StandardScaler(), ["age"])])
    with pytest.raises(ValidationError, match=r"'preprocess'.*a fitted transformer"):
        da.Target(torch.nn.Linear(1, 2), modality="tabular", data=raw, preprocess=unfitted)
    with pytest.raises(ValidationError, match=r"'data'.*a pandas DataFrame of raw columns"):
        da.Target(
            torch.nn.Linear(7, 2),
            modality="tabular",
            data=raw.to_numpy(),
            preprocess=_transformer(raw),
        )
    with pytest.raises(ValidationError, match="'feature_names'"):
        da.Target(
            torch.nn.Linear(7, 2),
            modality="tabular",
            data=raw,
            preprocess=_transformer(raw),
            feature_names=list("abcdefg"),
        )


def test_feature_ranges_are_in_raw_units():
    raw, _, _ = _raw(60)
    ct = _transformer(raw)
    target = da.Target(
        torch.nn.Linear(7, 2),
        modality="tabular",
        data=raw,
        preprocess=ct,
        feature_ranges={"age": (18, 90)},
    )
    scaler = ct.named_transformers_["num"]
    low, high = (np.array([18, 90]) - scaler.mean_[0]) / scaler.scale_[0]
    assert target.feature_ranges["age"] == pytest.approx((low, high))


def test_counterfactual_flips_say_what_they_changed_in_raw_values():
    raw, y, _ = _raw(seed=1)
    torch.manual_seed(0)
    target = da.Target(
        torch.nn.Linear(7, 2),
        modality="tabular",
        data=raw,
        preprocess=_transformer(raw),
        labels=y,
        sensitive={"workclass": raw["workclass"].to_numpy()},  # an input: flipped itself
        device="cpu",
    )
    bundle = da.run_audit(target, da.AuditConfig(families=["fairness"], progress=False))
    result = bundle["fairness"]
    rows = result.rows("counterfactual")
    assert rows
    for row in rows:
        # the raw attribute goes from the row's group to the group it was set to
        assert row.example_changes == f"workclass: {row.from_group} → {row.to_group}"
    from deepaudit.reports.views.fairness import fairness_view  # report and dashboard

    table = fairness_view(bundle, result).item("counterfactual")
    assert list(table.frame["example_changes"]) == [r.example_changes for r in rows]
    assert "example_changes:" in table.caption
