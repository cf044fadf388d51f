"""Named regions: a planted corner cue is reported through the region option, a random
region of the same size is not, and regions that do not fit the target are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.errors import ValidationError
from tests.audit.explain.explain_toys import tabular


class CornerCue(nn.Module):
    """Decides from the top-left 3×3 patch of a 1×16×16 image (a watermark), plus a
    little of the rest."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        corner = x[:, 0, :3, :3].flatten(1).sum(dim=1)
        rest = 0.01 * x.flatten(1).sum(dim=1)
        logit = 4 * (corner - 4.5) + rest
        return torch.stack([-logit, logit], dim=1)


def corner_target(rng) -> da.Target:
    x = rng.random(size=(60, 1, 16, 16)).astype(np.float32)
    return da.Target(CornerCue(), modality="image", data=x, device="cpu")


CORNER = np.zeros((16, 16), dtype=bool)
CORNER[:3, :3] = True


def explain(target: da.Target, **options) -> da.FamilyResult:
    options = {"methods": ["integrated_gradients", "saliency"], "progress": False} | options
    config = da.AuditConfig(families=["explain"], options={"explain": options}, progress=False)
    return da.run_audit(target, config)["explain"]


def test_a_planted_corner_cue_is_reported_and_a_random_region_of_its_size_is_not(rng):
    shuffled = rng.permutation(CORNER.ravel()).reshape(16, 16)
    result = explain(corner_target(rng), regions={"corner": CORNER, "random": shuffled})
    rows = {(r["region"], r["method"]): r for r in result.tables["regions"]}
    corner = rows["corner", "integrated_gradients"]
    assert corner["input_share"] == pytest.approx(9 / 256)
    assert corner["share"] > 0.5 and corner["enrichment_low"] > 2.0
    found = {f.check: f for f in result.findings}
    assert found["region:corner"].severity == "warn"
    assert found["region:corner"].evidence.value == corner["enrichment"]
    assert "`corner`" in found["region:corner"].message
    control = rows["random", "integrated_gradients"]
    assert control["input_share"] == pytest.approx(9 / 256)
    assert found["region:random"].severity == "pass", control
    assert control["enrichment_high"] <= 2.0


def test_shares_are_the_attribution_inside_over_the_whole(rng):
    target = corner_target(rng)
    result = explain(target, regions={"corner": CORNER}, methods=["saliency"])
    maps = np.abs(result.arrays["attributions_saliency"]).reshape(-1, 256)
    expected = (maps[:, CORNER.ravel()].sum(axis=1) / maps.sum(axis=1)).mean()
    (row,) = result.tables["regions"]
    assert row["share"] == pytest.approx(expected)
    assert row["enrichment"] == pytest.approx(expected / (9 / 256))
    assert row["share_low"] <= row["share"] <= row["share_high"]


def test_a_tabular_region_is_a_list_of_features(rng):
    x = rng.normal(size=(80, 4)).astype(np.float32)
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 0, 0, 0], [5.0, 0, 0, 0.1]]))
    result = explain(tabular(model, x), regions={"first": ["x0"], "last": ["x3"]})
    rows = {(r["region"], r["method"]): r for r in result.tables["regions"]}
    assert rows["first", "integrated_gradients"]["input_share"] == 0.25
    assert rows["first", "integrated_gradients"]["share"] > 0.9
    found = {f.check: f.severity for f in result.findings}
    assert found["region:first"] == "warn" and found["region:last"] == "pass"


@pytest.mark.parametrize(
    ("regions", "match"),
    [
        ({"corner": np.zeros((8, 8), dtype=bool)}, r"regions\['corner'\].*shape \(16, 16\)"),
        ({"corner": np.ones((16, 16), dtype=bool)}, "covering part of the input"),
        ({"corner": []}, "a dict from a region's name to its mask"),
    ],
)
def test_regions_that_do_not_fit_are_refused_before_any_work(rng, regions, match):
    target = corner_target(rng)
    with pytest.raises(ValidationError, match=match):
        explain(target, regions=regions)
    assert target.n_evaluations == 0


def test_a_tabular_region_naming_an_unknown_feature_is_refused(rng):
    x = rng.normal(size=(20, 4)).astype(np.float32)
    with pytest.raises(ValidationError, match=r"regions\['r'\].*names of logical features"):
        explain(tabular(nn.Linear(4, 2), x), regions={"r": ["nope"]})


def test_a_text_region_is_a_set_of_tokens_wherever_they_occur(text_target):
    result = explain(
        text_target, methods=["integrated_gradients"], regions={"w": ["w0", "w1", "w2"]}
    )
    (row,) = result.tables["regions"]
    tokens = result.arrays["inputs"].reshape(len(result.arrays["inputs"]), -1)
    scores = np.abs(result.arrays["attributions_integrated_gradients"])
    inside = np.isin(tokens, [2, 3, 4])  # ids of w0, w1, w2
    keep = inside.any(axis=1)
    shares = (scores * inside).sum(axis=1)[keep] / (scores * (tokens != 0)).sum(axis=1)[keep]
    sizes = inside.sum(axis=1)[keep] / (tokens != 0).sum(axis=1)[keep]
    assert row["n_samples"] == keep.sum() > 0
    assert row["share"] == pytest.approx(shares.mean())
    assert row["input_share"] == pytest.approx(sizes.mean())
