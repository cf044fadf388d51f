"""Counterfactual flips: tabular attributes (and proxies), recoloured images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.fairness import FairnessConfig
from deepaudit.audit.fairness.counterfactual import editors
from tests.audit.fairness.fairness_toys import audit, finding, group_target

NO_GROUPS = {"mitigation": False, "n_bootstrap": 200}


def _summary(bundle) -> pd.DataFrame:
    return pd.DataFrame(bundle["fairness"].tables["counterfactual_summary"]).set_index("attribute")


def test_a_model_blind_to_the_attribute_never_changes():
    bundle = audit(group_target(seed=0, n=500), **NO_GROUPS)
    summary = _summary(bundle)
    assert summary.loc["group", "changed_share"] == 0.0
    assert summary.loc["group", "mean_abs_shift"] == 0.0
    assert finding(bundle, "counterfactual").severity == "pass"
    rows = pd.DataFrame(bundle["fairness"].tables["counterfactual"])
    assert set(zip(rows["from_group"], rows["to_group"], strict=True)) == {("a", "b"), ("b", "a")}


def test_a_model_using_the_attribute_is_caught_and_the_shift_has_the_right_sign():
    bundle = audit(group_target(seed=0, n=500, group_weight=3.0), **NO_GROUPS)
    rows = pd.DataFrame(bundle["fairness"].tables["counterfactual"]).set_index("from_group")
    # Moving a to b adds 3 to the logit: P(class 1) can only rise; b to a: only fall.
    assert rows.loc["a", "mean_shift"] > 0.2 and rows.loc["b", "mean_shift"] < -0.2
    assert rows.loc["a", "changed_share"] > 0.2
    flip = finding(bundle, "counterfactual")
    assert flip.severity == "fail" and flip.evidence.interval[0] > 0.05


def test_proxies_change_with_the_attribute():
    # The model reads only the proxy column, never the group column itself.
    target = group_target(seed=0, n=500, proxy_weight=3.0)
    blind = _summary(audit(target, **NO_GROUPS))
    with_proxy = _summary(audit(target, proxies={"group": ["proxy"]}, **NO_GROUPS))
    assert blind.loc["group", "changed_share"] == 0.0
    assert with_proxy.loc["group", "changed_share"] > 0.2


def test_tabular_editor_sets_the_other_groups_typical_value():
    target = group_target(seed=0, n=300)
    found, notes = editors(target, ["group"], FairnessConfig(), np.random.default_rng(0))
    rows = np.flatnonzero(target.sensitive["group"].to_numpy() == "a")[:5]
    edited = found["group"](target.data[torch.from_numpy(rows)], rows, "b")
    assert torch.all(edited[:, 2] == 1.0)
    assert torch.equal(edited[:, :2], target.data[rows][:, :2])
    assert notes == []


class RedOrGreen(nn.Module):
    """Class 1 when the image holds more red than green: a pure colour cue."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        red, green = x[:, 0].mean(dim=(1, 2)), x[:, 1].mean(dim=(1, 2))
        return (20 * (red - green))[:, None]


def colour_target(n: int = 60) -> da.Target:
    rng = np.random.default_rng(0)
    stroke = (rng.random((n, 1, 8, 8)) > 0.6).astype(np.float32)
    colour = np.where(np.arange(n) % 2 == 0, "red", "green")
    tint = np.array([[1.0, 0.0, 0.0] if c == "red" else [0.0, 0.8, 0.0] for c in colour])
    images = stroke * tint[:, :, None, None].astype(np.float32)
    return da.Target(
        RedOrGreen(),
        modality="image",
        data=images,
        labels=(colour == "red").astype(np.int64),
        sensitive={"colour": colour},
        metadata={"palette": {"red": [1.0, 0.0, 0.0], "green": [0.0, 0.8, 0.0]}},
        device="cpu",
    )


def test_recolouring_inverts_the_tint_exactly():
    target = colour_target()
    found, _ = editors(target, ["colour"], FairnessConfig(), np.random.default_rng(0))
    recolour = found["colour"]
    red_rows = np.flatnonzero(target.sensitive["colour"].to_numpy() == "red")
    red = target.data[torch.from_numpy(red_rows)]
    green = recolour(red, red_rows, "green")
    assert torch.all(green[:, 0] == 0) and torch.all(green[:, 2] == 0)
    np.testing.assert_allclose(green[:, 1].numpy(), 0.8 * red[:, 0].numpy(), rtol=1e-6)
    green_rows = np.flatnonzero(target.sensitive["colour"].to_numpy() == "green")
    back = recolour(green, green_rows[: len(green)], "red")
    np.testing.assert_allclose(back.numpy(), red.numpy(), rtol=1e-6, atol=1e-7)


def test_recolouring_flips_every_prediction_of_a_colour_cue_model():
    bundle = audit(colour_target(), mitigation=False, n_bootstrap=100)
    rows = pd.DataFrame(bundle["fairness"].tables["counterfactual"])
    assert (rows["changed_share"] == 1.0).all()
    assert (rows["accuracy_before"] == 1.0).all() and (rows["accuracy_after"] == 0.0).all()
    flip = finding(bundle, "counterfactual")
    assert flip.severity == "fail"
    assert flip.message.startswith("Recolouring 'colour' to another group changes 100.0%")


def test_attributes_that_are_not_inputs_are_noted_not_flipped(rng):
    target = group_target(seed=0, n=200)
    target.sensitive["band"] = rng.choice(["x", "y"], size=200)
    bundle = audit(target, **NO_GROUPS)
    assert list(_summary(bundle).index) == ["group"]
    assert (
        "Attribute 'band' is not an input of the model that deepaudit can change, so it was "
        "not flipped." in bundle["fairness"].notes
    )


@pytest.mark.parametrize("limit", [1, 2])
def test_max_counterfactuals_bounds_the_alternatives(rng, limit):
    target = group_target(seed=0, n=300)
    codes = rng.integers(0, 3, 300)
    target.data[:, 2] = torch.from_numpy(codes.astype(np.float32))
    target.sensitive["group"] = np.array(["a", "b", "c"])[codes]
    bundle = audit(target, max_counterfactuals=limit, **NO_GROUPS)
    rows = pd.DataFrame(bundle["fairness"].tables["counterfactual"])
    assert rows.groupby("from_group").size().max() == limit
    assert _summary(bundle).loc["group", "alternatives"] == 300 * limit
