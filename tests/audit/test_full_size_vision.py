"""A torchvision ResNet-18 (random weights) at 224 x 224: the default audit runs every
family that applies, within budgets of memory (batch sizes) and compute (GFLOP)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepaudit as da
from deepaudit.audit.memory import batch_budget_mb
from deepaudit.cli import _applicable_families
from deepaudit.reports.findings import write_findings
from tests.audit import vision_toys
from tests.reports.test_findings_schema import problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(vision_toys.torchvision() is None, reason="torchvision is not installed"),
]


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    images = vision_toys.digits_224(8, seed=0)
    target = da.Target(
        vision_toys.resnet18("torchvision"),
        modality="image",
        data=images["x"],
        labels=images["y"],
        class_names=images["class_names"],
        sensitive={"colour": images["colour"]},
        input_range=(0.0, 1.0),
        name="resnet18",
        device="cpu",  # the batch size below is the CPU budget's
    )
    families = _applicable_families(target, None)
    out = tmp_path_factory.mktemp("resnet") / "run"
    bundle = da.run_audit(
        target, da.AuditConfig(families=tuple(families), output_dir=out, progress=False)
    )
    return target, families, bundle, out


def test_every_family_that_applies_runs_to_the_end(audited):
    _target, families, bundle, _out = audited
    assert {"overview", "explain", "fairness", "robustness"} <= set(families)
    assert list(bundle.families) == families
    assert not bundle.incomplete


def test_grad_cam_hooks_layer4_and_the_compute_budget_is_said(audited):
    _target, _families, bundle, _out = audited
    explain = bundle["explain"]
    notes = " ".join(explain.notes)
    assert "Grad-CAM hooked `layer4`" in notes
    assert "3.63 GFLOP" in notes  # ResNet-18's 1.8 G multiply-adds at 224 x 224
    maps = explain.arrays["attributions_grad_cam"]
    assert maps.shape == (8, 3, 224, 224) and np.isfinite(maps).all() and maps.max() > 0
    for row in explain.tables["cost"]:
        assert row["model_evaluations"] <= int(500 / 3.63)


def test_batches_fit_the_budget_and_are_recorded(audited):
    target, _families, bundle, _out = audited
    model = vision_toys.resnet18("torchvision")
    seen = []  # every leaf module's output for one image, counted here by hand
    for module in model.modules():
        if not any(module.children()):
            module.register_forward_hook(lambda m, i, out: seen.append(out.numel() * 4))
    with torch.no_grad():
        model(target.data[:1])
    activations = sum(seen)
    assert 25 * 2**20 < activations < 32 * 2**20  # ResNet-18 at 224 x 224: ~28.5 MB
    per_sample = target.data[:1].numel() * 4 + 3 * activations
    budget = batch_budget_mb(torch.device("cpu")) * 2**20
    largest = 1 << (int(budget // per_sample).bit_length() - 1)
    assert bundle.provenance["batch_size"] == largest  # the largest power of two that fits


def test_robustness_attacks_the_images(audited):
    _target, _families, bundle, _out = audited
    robustness = bundle["robustness"]
    assert robustness.tables, "robustness wrote no tables"
    assert any(f.family == "robustness" for f in bundle.findings)


def test_the_saved_run_loads_and_its_findings_validate(audited, tmp_path):
    _target, _families, bundle, out = audited
    loaded = da.load_bundle(out)
    assert list(loaded.families) == list(bundle.families)
    write_findings(loaded, tmp_path / "findings.json")
    assert problems(json.loads((tmp_path / "findings.json").read_text())) == []


def test_the_report_draws_full_size_maps_as_block_means_and_says_where_grad_cam_looked(
    audited, tmp_path
):
    from deepaudit.reports import write_report
    from deepaudit.reports.views import family_section

    _target, _families, bundle, out = audited
    page = write_report(out, tmp_path / "report.html").read_text()
    assert "layer4" in page and "3.63 GFLOP" in page
    assert len(page) < 10 * 2**20  # it was 30.7 MB with every pixel of every map
    maps = family_section(bundle, "explain").item("maps")
    assert "mean of each 4×4 block" in maps.caption
    heatmaps = [t for t in maps.figure.data if t.type == "heatmap"]
    saved = bundle["explain"].arrays["attributions_grad_cam"][0].sum(axis=0)
    assert all(np.asarray(t.z).shape == (56, 56) for t in heatmaps)
    means = saved.reshape(56, 4, 56, 4).mean(axis=(1, 3))
    assert any(np.allclose(np.asarray(t.customdata), means, rtol=1e-5) for t in heatmaps)
