"""The Ray engine gives the local engine's numbers, and leaves nothing behind."""

from __future__ import annotations

import io
import os
import secrets
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import deepaudit as da
from deepaudit.audit.engine import RAY_MISSING_MESSAGE, RayEngine, remove_ray_folder
from deepaudit.errors import DeepAuditError, ValidationError
from tests.audit import scale_toys as toys

OPTIONS = {
    "fairness": {"counterfactual": False, "mitigation": False, "n_bootstrap": 100},
    "explain": {"methods": ["integrated_gradients"], "every_row": True, "progress": False},
    "robustness": {
        "every_row": True,
        "n_samples": 40,
        "steps": 3,
        "n_bootstrap": 50,
        "query_samples": 4,
        "query_budget": 20,
        "natural_samples": 20,
        "monotonicity_samples": 4,
        "bisection_steps": 0,
        "progress": False,
    },
}


def _snapshot() -> set[str]:
    """What Ray could leave behind: the home folder and /tmp/ray."""
    home = Path.home()
    return {str(p) for p in home.iterdir()} | {
        str(p) for p in Path(tempfile.gettempdir()).glob("ray*")
    }


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs. Ray 2.60 turns token authentication on and writes the
    token to ~/.ray/auth_token unless one is given: a token in RAY_AUTH_TOKEN (read
    first, written nowhere) and a temporary session folder keep the machine clean."""
    ray = pytest.importorskip("ray")
    before = _snapshot()
    # Short: Ray's unix socket paths under it must stay below 107 characters.
    temp = tempfile.mkdtemp(prefix="da-ray-")
    env = {"RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}
    with mock.patch.dict(os.environ, env):
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            _temp_dir=temp,
        )
        try:
            yield {"before": before, "temp": temp}
        finally:
            ray.shutdown()
            remove_ray_folder(temp)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return toys.table(n=2000, seed=5)


def _run(target: da.Target, engine: str, workers: int | None = None) -> da.AuditBundle:
    config = da.AuditConfig(
        families=["overview", "explain", "fairness", "robustness"],
        options=OPTIONS,
        engine=engine,
        workers=workers,
        progress=False,
        seed=11,
    )
    return da.run_audit(target, config)


def _flat(bundle: da.AuditBundle) -> dict:
    """Every number of the bundle that does not measure time."""
    out = {}
    for family, result in bundle.families.items():
        for key, value in result.metrics.items():
            if isinstance(value, float | int) and "seconds" not in key:
                out[family, "metric", key] = value
        for name, rows in result.tables.items():
            if name == "cost":
                continue
            frame = pd.DataFrame(rows)
            numbers = frame.select_dtypes("number").drop(
                columns=[c for c in frame if "seconds" in c], errors="ignore"
            )
            out[family, "table", name] = numbers.to_numpy(dtype=np.float64)
    return out


def test_ray_engine_gives_the_same_bundle_numbers_as_the_local_one(local_ray, frame, tmp_path):
    net = toys.model()
    target = toys.from_parquet(frame, net, tmp_path, sample_size=128)
    local = _run(target, "local")
    remote = _run(target, "ray", workers=2)
    assert remote.provenance["engine"] == "ray" and remote.provenance["workers"] == 2
    a, b = _flat(local), _flat(remote)
    assert a.keys() == b.keys()
    for key in a:
        # A completeness gap is a float32 cancellation (a sum of attributions minus an
        # output difference): its last digits follow the workers' reduction order.
        atol = 1e-7 if "completeness_gap" in str(key) else 1e-9
        np.testing.assert_allclose(b[key], a[key], rtol=1e-6, atol=atol, err_msg=str(key))
    assert remote["explain"].metrics["every_row_n"] == len(frame)
    assert remote["robustness"].metrics["every_row_n"] == len(frame)
    assert remote.provenance["model_evaluations"] == local.provenance["model_evaluations"]


def test_ray_leaves_nothing_behind(local_ray):
    # Ray is running (the fixture): nothing was written to the home folder or /tmp/ray.
    assert _snapshot() == local_ray["before"]
    assert Path(local_ray["temp"]).exists()


def test_a_missing_ray_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(DeepAuditError) as error:
        RayEngine()
    assert str(error.value) == RAY_MISSING_MESSAGE
    assert "pip install 'deepaudit[ray]'" in RAY_MISSING_MESSAGE


def test_unknown_engine_is_refused_before_any_work():
    with pytest.raises(ValidationError) as error:
        da.AuditConfig(engine="spark")
    assert str(error.value) == (
        "The 'engine' parameter of AuditConfig must be one of 'local', 'ray'. Got 'spark' instead."
    )


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal (where tqdm draws its bars)."""

    def isatty(self) -> bool:
        return True


def _stderr_of(target, progress: bool, monkeypatch) -> str:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    options = {"explain": {"methods": ["saliency"], "n_samples": 4, "n_sanity_samples": 4}}
    da.run_audit(target, da.AuditConfig(families=["explain"], options=options, progress=progress))
    return terminal.getvalue()


def test_progress_false_silences_every_familys_bars(tabular_target, monkeypatch):
    assert "explain" in _stderr_of(tabular_target, True, monkeypatch)  # shown on a terminal
    assert _stderr_of(tabular_target, False, monkeypatch) == ""


def test_nested_bars_are_off_where_stderr_is_not_a_terminal(capfd):
    from deepaudit.audit.bars import nested_bar

    for _ in nested_bar(range(3), desc="inner"):
        pass
    err = capfd.readouterr().err
    assert "\x1b[A" not in err and "inner" not in err


def test_an_output_dir_that_cannot_be_written_is_refused_before_any_work(
    tabular_target, tmp_path, monkeypatch
):
    from deepaudit.errors import ValidationError

    calls = []
    model = tabular_target.model
    hook = model.register_forward_hook(lambda *a: calls.append(1))
    afile = tmp_path / "a-file"
    afile.write_text("x")
    with pytest.raises(ValidationError) as caught:
        da.run_audit(tabular_target, da.AuditConfig(families=["overview"], output_dir=afile))
    assert str(caught.value) == (
        "The 'output_dir' parameter of AuditConfig must be a folder this process can write "
        f"(a new one, or an existing run folder). Got {str(afile)!r}, which is a file instead."
    )
    # a parent this process may not write (as os.access says; root may write anywhere)
    monkeypatch.setattr("deepaudit.audit.runner.os.access", lambda path, mode: False)
    deep = tmp_path / "new" / "run"
    with pytest.raises(ValidationError) as caught:
        da.run_audit(tabular_target, da.AuditConfig(families=["overview"], output_dir=deep))
    assert str(caught.value).endswith(
        f"Got {str(deep)!r}, under {str(tmp_path)!r}, which cannot be written instead."
    )
    hook.remove()
    assert calls == []  # refused before the model was called
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # nothing made
