"""A Ray that deepaudit starts itself is stopped again and leaves nothing behind.

Run in a fresh process: Ray keeps the first auth token it reads for the life of a
process, and the other Ray tests give theirs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os
import deepaudit as da
from tests.audit import scale_toys as toys
import ray

frame = toys.table(n=400, seed=3)
config = da.AuditConfig(families=["overview"], engine="ray", workers=1, progress=False)
first = da.run_audit(toys.in_memory(frame, toys.model()), config)
second = da.run_audit(toys.in_memory(frame, toys.model()), config)  # a second local Ray
print(json.dumps({
    "engine": first.provenance["engine"],
    "same": first["overview"].metrics["accuracy"] == second["overview"].metrics["accuracy"],
    "running": ray.is_initialized(),
    "token_left": "RAY_AUTH_TOKEN" in os.environ,
}))
"""


def _snapshot() -> set[str]:
    return {str(p) for p in Path.home().iterdir()} | {
        str(p) for p in Path(tempfile.gettempdir()).glob("*ray*")
    }


def test_an_audit_on_its_own_local_ray_leaves_nothing_behind():
    pytest.importorskip("ray")
    before = _snapshot()
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_TOKEN"}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"engine": "ray", "same": True, "running": False, "token_left": False}
    assert _snapshot() == before
