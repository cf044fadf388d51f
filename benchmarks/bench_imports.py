"""What reading deepaudit costs: import times and the dashboard's start-up, as ratios.

Each command runs in a fresh Python, several times (the median is kept), beside
``python -c "import numpy"`` in the same run, so the ratios hold whatever the machine:

- ``import deepaudit``, ``import deepaudit.results``, the package with results and
  reports, and ``import torch`` (what the reading side used to load);
- ``deepaudit --help`` and ``deepaudit report RUN`` (a version-1 bundle from the test
  fixtures, which every deepaudit since 0.1 reads);
- the dashboard's start-up to its first rendered page (streamlit's AppTest, in a fresh
  process: imports, app script, Findings page).

Run: ``.venv/bin/python benchmarks/bench_imports.py [--tree PATH]``. ``--tree`` times
another checkout of deepaudit (for example ``git worktree add /tmp/before <commit>``) with
the same interpreter, so a before/after comparison is one command each.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 7
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "v1" / "transformer"


def timed(code: str, cwd: Path, repeats: int = REPEATS) -> float:
    """Median wall seconds of ``python -c code`` in fresh processes started in ``cwd``
    (which comes first on ``sys.path``, so ``--tree`` wins over the installed package)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_folder(tmp: Path) -> Path:
    run = tmp / "run"
    run.mkdir()
    shutil.copy(FIXTURE / "arrays.npz", run / "arrays.npz")
    with gzip.open(FIXTURE / "bundle.json.gz", "rb") as fh:
        (run / "bundle.json").write_bytes(fh.read())
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="another checkout of deepaudit to time")
    args = parser.parse_args()
    tree = (args.tree or Path(__file__).resolve().parent.parent).resolve()
    probe = "import deepaudit, pathlib; print(pathlib.Path(deepaudit.__file__).parent.parent)"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tree, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert Path(found) == tree, f"deepaudit is imported from {found}, not {tree}"
    with tempfile.TemporaryDirectory() as tmp:
        run = run_folder(Path(tmp))
        report = Path(tmp) / "report.html"
        cli = "from deepaudit.cli import app\ntry:\n    app({args})\nexcept SystemExit:\n    pass"
        dashboard = (
            "from streamlit.testing.v1 import AppTest\n"
            "from deepaudit.dashboard import APP_PATH, state\n"
            "at = AppTest.from_file(str(APP_PATH), default_timeout=120)\n"
            f"at.session_state[state.RUN_DIRS_KEY] = [{str(run)!r}]\n"
            "at.run()\nassert not at.exception, at.exception\n"
        )
        cases = {
            "import numpy": "import numpy",
            "import torch": "import torch",
            "import deepaudit": "import deepaudit",
            "import deepaudit.results": "import deepaudit.results",
            "import deepaudit, results, reports": "import deepaudit, deepaudit.results, deepaudit.reports",
            "deepaudit --help": cli.format(args=["--help"]),
            "deepaudit report RUN": cli.format(
                args=["report", str(run), "-o", str(report), "--no-findings"]
            ),
            "dashboard: start to first page": dashboard,
        }
        results = {}
        for label, code in cases.items():
            repeats = 3 if label.startswith("dashboard") else REPEATS
            results[label] = timed(code, tree, repeats)
            print(f"  {label:<34} {results[label]:7.3f} s", flush=True)
    base = results["import numpy"]
    print(f"\ndeepaudit from {tree}; median of {REPEATS} fresh processes (3 for the dashboard)")
    print(f"{'':<36}{'seconds':>9}{'× numpy':>10}")
    for label, seconds in results.items():
        print(f"{label:<36}{seconds:9.3f}{seconds / base:10.2f}")


if __name__ == "__main__":
    main()
