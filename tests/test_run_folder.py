"""Overwriting a run: a complete run loads at every instant, and files made from the old
run go with it. A save is killed at each of its file operations in turn."""

import os
import shutil

import pytest

import deepaudit as da
from deepaudit.reports import write_findings, write_report
from deepaudit.run_folder import is_current, previous_folder, recorded_bundle_sha256
from tests.test_results import _bundle


class Killed(BaseException):
    """The process died here: nothing after it runs, not even cleanup."""


def _two_runs():
    """Two runs that differ in bundle.json and in arrays.npz."""
    old, new = _bundle(), _bundle()
    old["handmade"].metrics["accuracy"] = 0.25
    new["handmade"].metrics["accuracy"] = 0.75
    new["handmade"].arrays["cm"] = new["handmade"].arrays["cm"] * 10
    return old, new


def _accuracy(path) -> float:
    return da.load_bundle(path)["handmade"].metrics["accuracy"]


def _kill_at(monkeypatch, step: int) -> list[str]:
    """Make the ``step``-th file operation, and every one after it, die."""
    done: list[str] = []
    for owner, name in (
        (os, "replace"),
        (os, "rename"),
        (os, "link"),
        (os, "unlink"),
        (shutil, "rmtree"),
        (shutil, "copy2"),
    ):
        real = getattr(owner, name)

        def patched(*args, _real=real, _name=name, **kwargs):
            if len(done) >= step:
                raise Killed(_name)
            done.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, patched)
    return done


def test_a_save_killed_at_any_step_of_an_overwrite_leaves_a_run_that_loads(tmp_path, monkeypatch):
    old, new = _two_runs()
    steps_seen = []
    for step in range(50):
        run = tmp_path / f"run{step}"
        old.save(run)
        write_report(run)  # made from the old run
        with monkeypatch.context() as patch:
            done = _kill_at(patch, step)
            try:
                new.save(run)
                finished = True
            except Killed:
                finished = False
        steps_seen.append(list(done))
        loaded = _accuracy(run)  # never raises: the old run or the new one, whole
        assert loaded in (0.25, 0.75), step
        report = run / "report.html"
        if report.exists():  # the report left is the old run's, and the old run is shown
            assert loaded == 0.25 and is_current(report, run), step
        if finished:
            assert loaded == 0.75 and not previous_folder(run).exists()
            break
        # the next save finishes or rolls back the cut overwrite, then replaces the run
        new.save(run)
        assert _accuracy(run) == 0.75 and not previous_folder(run).exists()
    else:
        pytest.fail("the save never finished")
    # every kind of step was cut at least once: link, unlink, both replaces, rmtree
    assert {"link", "rename", "unlink", "replace", "rmtree"} <= set(steps_seen[-1])
    assert step >= 6


def test_a_cut_overwrite_loads_the_old_run_and_the_next_save_rolls_it_back(tmp_path, monkeypatch):
    old, new = _two_runs()
    run = tmp_path / "run"
    old.save(run)
    real = os.replace
    calls = []

    def die_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # arrays.npz is new, bundle.json still old
            raise Killed("replace")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", die_on_second)
    with pytest.raises(Killed):
        new.save(run)
    monkeypatch.setattr(os, "replace", real)
    assert previous_folder(run).is_dir()
    assert _accuracy(run) == 0.25  # read from the previous pair; the folder is untouched
    assert previous_folder(run).is_dir()
    from deepaudit.run_folder import recover

    recover(run)
    assert not previous_folder(run).exists() and _accuracy(run) == 0.25


def test_files_made_from_a_run_record_it_and_go_with_it(tmp_path):
    run = tmp_path / "run"
    bundle = _bundle()
    bundle.save(run)
    write_report(run)
    write_findings(da.load_bundle(run), run / "findings.json", run / "findings.md")
    for name in ("report.html", "findings.json", "findings.md"):
        assert recorded_bundle_sha256(run / name) == bundle.source_sha256, name
        assert is_current(run / name, run)
    bundle["handmade"].metrics["accuracy"] = 0.5
    bundle.save(run)  # another run: its report and findings files are not this run's
    assert sorted(p.name for p in run.iterdir()) == ["arrays.npz", "bundle.json"]


def test_the_index_does_not_link_a_report_made_from_another_run(tmp_path):
    from deepaudit.reports.index import write_index

    run = tmp_path / "run"
    _bundle().save(run)
    write_report(run)
    stale = (run / "report.html").read_text()
    other = _bundle()
    other["handmade"].metrics["accuracy"] = 0.5
    other.save(run)
    (run / "report.html").write_text(stale)  # put back by hand, e.g. from a copy
    index = write_index(tmp_path / "site", [run]).read_text()
    assert "report.html" not in index
    write_report(run)
    assert "report.html" in write_index(tmp_path / "site", [run]).read_text()
