"""What the dashboard caches once per server process: every session shares one loaded
bundle, its views and the pages' figures; a run saved again is read again; no page
changes what is shared."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import deepaudit as da
from deepaudit.dashboard import state
from deepaudit.dashboard.runs import RunRef
from tests.dashboard.conftest import make_app


def _fingerprint(bundle: da.AuditBundle) -> str:
    """A hash of everything a bundle holds: its plain data and every array's bytes."""
    digest = hashlib.sha256(json.dumps(bundle.to_dict(), sort_keys=True, default=str).encode())
    for name, array in sorted(bundle.all_arrays().items()):
        digest.update(name.encode() + np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_a_run_is_read_once_and_again_when_it_is_saved_again(run_paths, tmp_path):
    da.load_bundle(run_paths["tabular"]).save(tmp_path / "run")
    ref = RunRef("run", tmp_path / "run")
    first = state.load(ref)
    assert state.load(RunRef("another label", tmp_path / "run")) is first  # one per process
    section = state.section(first, "fairness")
    assert state.section(first, "fairness") is section
    built = []
    view = state.view(first, "test.view", (0.5,), lambda: built.append(1) or object())
    assert state.view(first, "test.view", (0.5,), lambda: built.append(1) or object()) is view
    assert built == [1]

    da.load_bundle(run_paths["tabular-seed1"]).save(tmp_path / "run")  # overwritten in place

    again = state.load(ref)
    assert again is not first and again.config["seed"] == 1
    assert state.section(again, "fairness") is not section
    assert state.view(again, "test.view", (0.5,), lambda: built.append(1) or object()) is not view
    assert built == [1, 1]


def test_a_shared_bundles_arrays_are_read_only(run_paths):
    bundle = state.load(RunRef("tabular", run_paths["tabular"]))
    scores = bundle.families["fairness"].arrays["scores"]
    with pytest.raises(ValueError, match="read-only"):
        scores[0] = 0.5


#: (page, run) pairs covering every page script and each kind of run.
PAGES = [
    ("findings", "tabular"),
    ("model", "tabular"),
    ("explanations", "tabular"),
    ("fairness", "tabular"),
    ("robustness", "tabular"),
    ("explanations", "image"),
    ("robustness", "text"),
    ("generative", "generator"),
    ("generative", "autoencoder"),
    ("compare", "tabular"),
]


def test_no_page_changes_the_bundles_every_session_shares(runs_root, run_paths):
    refs = {name: RunRef(name, path) for name, path in run_paths.items()}
    before = {name: _fingerprint(da.load_bundle(path)) for name, path in run_paths.items()}
    for page, run in PAGES:
        at = make_app([runs_root], **{state.CURRENT_KEY: run})
        at.switch_page(f"screens/{page}.py").run()
        assert not at.exception, (page, at.exception)
        if page == "fairness":  # a threshold moved: the live metrics recomputed
            at.slider(key=f"fairness.threshold|{run}").set_value(0.3).run()
            assert not at.exception, at.exception
    for name, ref in refs.items():
        assert _fingerprint(state.load(ref)) == before[name], name
