"""A torchvision ResNet-18 (random weights) at 224 x 224: the default audit runs every
family that applies, within budgets of memory (batch sizes) and compute (GFLOP)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import deepaudit as da
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
    assert bundle.provenance["batch_size"] == target.batch_size >= 1
    # three copies of ResNet-18's ~28.5 MB of activations a sample fit the budget
    assert target.batch_size * 3 * 28 * 2**20 <= 1024 * 2**20


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


def test_the_report_renders_the_full_size_maps_and_says_where_grad_cam_looked(audited, tmp_path):
    from deepaudit.reports import write_report

    _target, _families, _bundle, out = audited
    page = write_report(out, tmp_path / "report.html").read_text()
    assert "layer4" in page and "3.63 GFLOP" in page
    assert page.count("data:image/png;base64,") >= 5  # attribution maps, one per method
    assert len(page) < 30 * 2**20
