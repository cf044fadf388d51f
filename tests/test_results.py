import json

import numpy as np
import pytest

import deepaudit as da
from deepaudit.errors import BundleError
from deepaudit.results import AuditBundle, Evidence, FamilyResult, Finding


def _bundle() -> AuditBundle:
    result = FamilyResult(
        "handmade",
        metrics={"accuracy": 0.1 + 0.2, "auc": float("nan"), "n": 3, "nested": {"a": [1, 2.5]}},
        tables={"per_class": [{"class": "<b>x</b>", "recall": 1 / 3}]},
        arrays={"cm": np.array([[1, 2], [3, 4]]), "p": np.array([0.1, np.nan], dtype=np.float32)},
        findings=[
            Finding("handmade", "a", "pass", "fine", Evidence("m", 1.0)),
            Finding(
                "handmade",
                "b",
                "fail",
                "<script>alert(1)</script>",
                Evidence(
                    "m", 0.25, interval=(0.1, 0.4), threshold=0.3, group="sex=f", sample_ids=(3, 1)
                ),
            ),
            Finding("handmade", "c", "warn", "hm", Evidence("m")),
        ],
        seconds=1.5,
        model_evaluations=10,
    )
    return AuditBundle(
        target={"name": "t", "kind": "classifier", "modality": "tabular"},
        provenance={"seed": 0},
        config={"families": ["handmade"]},
        families={"handmade": result},
    )


def _same(a: AuditBundle, b: AuditBundle) -> None:
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    for key, value in a.all_arrays().items():
        other = b.all_arrays()[key]
        assert other.dtype == value.dtype
        np.testing.assert_array_equal(other, value)


def test_round_trip_is_exact(tmp_path):
    bundle = _bundle()
    bundle.save(tmp_path / "run")
    loaded = da.load_bundle(tmp_path / "run")
    _same(bundle, loaded)
    assert loaded["handmade"].metrics["accuracy"] == 0.1 + 0.2  # floats survive bit for bit
    assert np.isnan(loaded["handmade"].metrics["auc"])
    assert loaded.findings[0].evidence.interval == (0.1, 0.4)
    assert [f.severity for f in loaded.findings] == ["fail", "warn", "pass"]
    # saving again over the folder replaces it and still round-trips
    loaded["handmade"].metrics["accuracy"] = 0.5
    loaded.save(tmp_path / "run")
    assert da.load_bundle(tmp_path / "run")["handmade"].metrics["accuracy"] == 0.5


def test_a_real_audit_round_trips(tabular_target, tmp_path):
    bundle = da.run_audit(tabular_target, da.AuditConfig(progress=False, output_dir=tmp_path / "r"))
    _same(bundle, da.load_bundle(tmp_path / "r"))


def test_an_interrupted_save_leaves_nothing_behind(tmp_path, monkeypatch):
    bundle = _bundle()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("deepaudit.results.json.dump", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        bundle.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_save_over_a_run_keeps_the_old_one(tmp_path, monkeypatch):
    bundle = _bundle()
    bundle.save(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    bundle["handmade"].metrics["accuracy"] = 0.9
    monkeypatch.setattr(
        "deepaudit.results.np.savez_compressed",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed")),
    )
    with pytest.raises(RuntimeError, match="killed"):
        bundle.save(tmp_path / "run")
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_newer_schema_is_refused_clearly(tmp_path):
    _bundle().save(tmp_path / "run")
    path = tmp_path / "run" / "bundle.json"
    doc = json.loads(path.read_text())
    doc["schema_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(BundleError) as info:
        da.load_bundle(tmp_path / "run")
    assert str(info.value) == (
        f"The audit bundle at {tmp_path / 'run'} has schema version 99, but this deepaudit "
        f"({da.__version__}) reads schema versions up to 2. Upgrade deepaudit to load it."
    )


def test_missing_or_mismatched_files_are_refused(tmp_path):
    with pytest.raises(BundleError) as info:
        da.load_bundle(tmp_path / "nothing")
    assert str(info.value) == (
        f"No audit bundle at {tmp_path / 'nothing'}: expected a folder holding bundle.json "
        "and arrays.npz."
    )
    _bundle().save(tmp_path / "a")
    other = _bundle()
    other["handmade"].arrays["cm"] = np.zeros((2, 2))
    other.save(tmp_path / "b")
    (tmp_path / "b" / "arrays.npz").replace(tmp_path / "a" / "arrays.npz")
    with pytest.raises(BundleError, match=r"arrays\.npz does not match the sha256"):
        da.load_bundle(tmp_path / "a")


def test_pickled_arrays_are_never_loaded(tmp_path):
    _bundle().save(tmp_path / "run")
    path = tmp_path / "run" / "arrays.npz"
    np.savez(path, **{"overview/cm": np.array([object()], dtype=object)})
    doc = json.loads((tmp_path / "run" / "bundle.json").read_text())
    from deepaudit.run_folder import sha256_file

    doc["arrays_sha256"] = sha256_file(path)
    (tmp_path / "run" / "bundle.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="cannot be read"):
        da.load_bundle(tmp_path / "run")


def test_notebook_html_escapes_strings():
    html = _bundle()._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_severity_is_refused():
    with pytest.raises(da.errors.ValidationError, match="'severity' parameter of Finding"):
        Finding("f", "c", "bad", "m", Evidence("m"))


def test_a_save_clears_the_staging_folders_a_crash_left_and_the_dashboard_never_lists_them(
    tmp_path,
):
    import os
    import time

    from deepaudit.dashboard.runs import discover_runs
    from deepaudit.results import STALE_STAGING_SECONDS

    bundle = da.AuditBundle(target={"name": "x"}, provenance={}, config={}, families={})
    bundle.save(tmp_path / "run")
    crashed = tmp_path / ".run.abcd.tmp"  # what a save killed mid-way leaves
    bundle.save(crashed)  # a complete-looking bundle inside: still not a run
    old = time.time() - STALE_STAGING_SECONDS - 5
    os.utime(crashed, (old, old))
    fresh = tmp_path / ".run.efgh.tmp"  # a save in progress elsewhere
    fresh.mkdir()
    found, problems = discover_runs([tmp_path])
    assert [p.name for p in found] == ["run"] and problems == []
    bundle.save(tmp_path / "run")
    assert not crashed.exists() and fresh.exists()
    assert da.load_bundle(tmp_path / "run").target == {"name": "x"}


def test_a_run_folder_gets_the_usual_permissions_not_mkdtemps_0700(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        bundle = da.AuditBundle(target={"name": "x"}, provenance={}, config={}, families={})
        path = bundle.save(tmp_path / "run")
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
        assert stat.S_IMODE((path / "bundle.json").stat().st_mode) == 0o644
    finally:
        os.umask(mask)


def test_severity_tally_counts_every_severity_worst_first_and_its_text_skips_zeros():
    from deepaudit.results import Evidence, Finding, severity_tally, tally_text

    found = [
        Finding("f", str(i), s, "m", Evidence("x")) for i, s in enumerate(["warn", "pass", "warn"])
    ]
    counts = severity_tally(found)
    assert counts == {"fail": 0, "warn": 2, "inconclusive": 0, "pass": 1}
    assert list(counts) == ["fail", "warn", "inconclusive", "pass"]
    assert tally_text(counts) == "2 warn, 1 pass" and tally_text(severity_tally([])) == ""
