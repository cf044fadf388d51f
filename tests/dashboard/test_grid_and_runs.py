"""The findings grid and the discovery of run folders (no streamlit)."""

from __future__ import annotations

import pytest

from deepaudit.dashboard.grid import column_names, findings_grid, grid_frame, worst_of
from deepaudit.dashboard.runs import (
    NOT_A_RUN_MESSAGE,
    RunRef,
    discover_runs,
    label_runs,
    run_stamp,
)
from deepaudit.results import AuditBundle, Evidence, FamilyResult, Finding


def _finding(family, check, severity):
    return Finding(family, check, severity, f"{check} is {severity}", Evidence(metric=check))


def _bundle(**families) -> AuditBundle:
    return AuditBundle(
        target={"name": "m"},
        provenance={},
        config={},
        families={
            name: FamilyResult(name, findings=[_finding(name, c, s) for c, s in found])
            for name, found in families.items()
        },
    )


@pytest.fixture
def bundles():
    return {
        "a": _bundle(
            overview=[("accuracy", "pass"), ("calibration", "warn")],
            fairness=[("gap", "inconclusive"), ("gap", "fail"), ("ratio", "fail")],
        ),
        "b": _bundle(overview=[("accuracy", "fail")], robustness=[]),
    }


def test_grid_by_family_holds_each_worst_severity(bundles):
    assert column_names(bundles) == ["overview", "fairness", "robustness"]
    frame = grid_frame(bundles)
    assert frame.loc["a"].tolist() == ["warn", "fail", None]  # robustness did not run on a
    assert frame.loc["b"].tolist() == ["fail", None, "pass"]  # ran on b, found nothing
    cell = findings_grid(bundles)[0][1]
    assert (cell.model, cell.column, cell.count) == ("a", "fairness", 2)
    assert [f.severity for f in cell.findings] == ["fail", "fail", "inconclusive"]


def test_grid_by_check(bundles):
    assert column_names(bundles, "check") == [
        "overview/accuracy",
        "overview/calibration",
        "fairness/gap",
        "fairness/ratio",
    ]
    frame = grid_frame(bundles, "check")
    assert frame.loc["a"].tolist() == ["pass", "warn", "fail", "fail"]
    assert frame.loc["b"].tolist() == ["fail", None, None, None]
    with pytest.raises(ValueError, match="by must be 'family' or 'check'"):
        findings_grid(bundles, "model")


def test_worst_of():
    assert worst_of(["pass", None, "inconclusive", "warn"]) == "warn"
    assert worst_of([None, None]) is None


def test_discover_runs_reads_run_folders_and_folders_of_runs(run_paths, runs_root, tmp_path):
    found, problems = discover_runs([run_paths["image"], runs_root, tmp_path / "nothing"])
    assert found[0] == run_paths["image"]
    assert sorted(p.name for p in found) == sorted(run_paths)  # image is not listed twice
    assert problems == [NOT_A_RUN_MESSAGE.format(path=tmp_path / "nothing")]


def test_labels_are_unique(tmp_path):
    paths = [tmp_path / "x" / "cnn", tmp_path / "y" / "cnn", tmp_path / "y" / "lstm"]
    assert [r.label for r in label_runs(paths)] == ["x/cnn", "y/cnn", "lstm"]
    assert label_runs([tmp_path / "x" / "cnn"]) == [RunRef("cnn", tmp_path / "x" / "cnn")]


def test_the_stamp_changes_when_a_run_is_saved_again(run_paths, tmp_path):
    import deepaudit as da

    bundle = da.load_bundle(run_paths["tabular"])
    bundle.save(tmp_path / "copy")
    before = run_stamp(tmp_path / "copy")
    bundle.save(tmp_path / "copy")
    after = run_stamp(tmp_path / "copy")
    assert before[0] == after[0] == str((tmp_path / "copy").resolve())
    assert before[1:] != after[1:]
