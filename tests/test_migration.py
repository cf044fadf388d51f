"""Bundles saved by deepaudit 0.1 (bundle schema 1) load through the migrations of every
family's typed result, and render.

The fixtures in ``tests/data/v1`` were written by deepaudit 0.1.0 (commit 261f5f0) from
the reference models with small budgets; their ``bundle.json`` is gzipped to keep the
repository small.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

import deepaudit as da
from deepaudit.families import get_family
from deepaudit.reports import render_html
from deepaudit.reports.views import anchor

V1 = Path(__file__).parent / "data" / "v1"
MODELS = sorted(p.name for p in V1.iterdir())


def unpack(model: str, tmp_path: Path) -> Path:
    """The version-1 run folder of ``model``, as a fresh copy with bundle.json unzipped."""
    run = tmp_path / model
    run.mkdir()
    shutil.copy(V1 / model / "arrays.npz", run / "arrays.npz")
    with gzip.open(V1 / model / "bundle.json.gz", "rb") as fh:
        (run / "bundle.json").write_bytes(fh.read())
    return run


def test_the_fixtures_are_version_1_and_cover_every_family():
    families = set()
    for model in MODELS:
        with gzip.open(V1 / model / "bundle.json.gz", "rt", encoding="utf-8") as fh:
            document = json.load(fh)
        assert document["schema_version"] == 1
        families |= set(document["families"])
    assert families == set(da.list_families())


@pytest.mark.parametrize("model", MODELS)
def test_a_version_1_bundle_loads_into_typed_results_with_its_findings(model, tmp_path):
    run = unpack(model, tmp_path)
    with gzip.open(V1 / model / "bundle.json.gz", "rt", encoding="utf-8") as fh:
        saved = json.load(fh)
    bundle = da.load_bundle(run)
    assert bundle.schema_version == 2
    for name, result in bundle.families.items():
        assert type(result) is get_family(name).result_class
        result.check_schema()  # every table and metric has its declared shape
        old = saved["families"][name]
        assert [f.to_dict()["message"] for f in result.findings] == [
            f["message"] for f in old["findings"]
        ]
        # version 1's evidence "table" is version 2's "view"
        assert [f.evidence.view for f in result.findings] == [
            f["evidence"]["table"] for f in old["findings"]
        ]
        kept = {k: v for k, v in old["metrics"].items() if v == v}  # NaN != NaN
        assert result.metrics.items() >= kept.items()
        ids = [f.id for f in result.findings]
        assert len(set(ids)) == len(ids), ids


@pytest.mark.parametrize("model", MODELS)
def test_a_version_1_bundle_renders_as_a_report(model, tmp_path):
    bundle = da.load_bundle(unpack(model, tmp_path))
    html = render_html(bundle)
    for name in bundle.families:
        assert f'id="{anchor(name, "view-error")}"' not in html  # each family's view drew it
    for finding in bundle.findings:
        assert f'data-check="{finding.check}"' in html


def test_a_version_1_bundle_saves_as_version_2_and_loads_again(tmp_path):
    bundle = da.load_bundle(unpack("transformer", tmp_path))
    bundle.save(tmp_path / "again")
    document = json.loads((tmp_path / "again" / "bundle.json").read_text())
    assert document["schema_version"] == 2
    assert {r["schema_version"] for r in document["families"].values()} == {2}
    assert da.load_bundle(tmp_path / "again").findings == bundle.findings


def test_a_result_of_a_family_not_installed_here_loads_as_it_was_saved(tmp_path):
    from deepaudit.results import FamilyResult

    bundle = da.load_bundle(unpack("transformer", tmp_path))
    bundle.families["elsewhere"] = FamilyResult(
        "elsewhere", metrics={"gap": 0.3}, tables={"rows": [{"anything": 1}]}
    )
    bundle.save(tmp_path / "with-plugin")
    path = tmp_path / "with-plugin" / "bundle.json"
    document = json.loads(path.read_text())
    document["families"]["elsewhere"]["schema_version"] = 3  # the plugin's own version
    path.write_text(json.dumps(document))
    loaded = da.load_bundle(tmp_path / "with-plugin")
    assert type(loaded["elsewhere"]) is FamilyResult
    assert loaded["elsewhere"].tables == {"rows": [{"anything": 1}]}
    assert "elsewhere" in render_html(loaded)
