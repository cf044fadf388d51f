"""What trustworthy verdicts cost: the new intervals and adaptive steps beside the old ones.

Three measurements, each a ratio taken in one run:

1. **Fairness at 100,000 rows.** The fairness audit's tables and tests (a linear model,
   two attributes and their intersection, 1,000 resamples) with the simultaneous max-T
   intervals of the disparities, against the same audit with the old percentile interval
   of each extreme (``max - min`` of the resampled rates), and against fairlearn's
   ``MetricFrame(n_boot=1000)`` on one grouping, extrapolated from a probe when it would
   take longer than ``--budget`` seconds (marked ``~``).
2. **Integrated Gradients.** On every reference model: seconds, model evaluations and the
   completeness gap with the old fixed 16 steps and with the adaptive steps.
3. **The demo.** ``deepaudit demo`` timed with this checkout and with ``--before``, another
   checkout (``git worktree add /tmp/before <commit>``), in fresh processes.

Run: ``.venv/bin/python benchmarks/bench_verdicts.py [--rows 100000] [--before PATH]
[--skip-demo]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from fairlearn.metrics import MetricFrame, selection_rate

import deepaudit as da
from deepaudit.audit.fairness import FairnessConfig
from deepaudit.audit.fairness.classifier import GroupTables, audit_cells
from deepaudit.audit.fairness.groups import make_groupings
from deepaudit.audit.fairness.metrics import (
    analyse_groups,
    bootstrap_rates,
    build_cells,
    disparity_arrays,
)
from deepaudit.audit.fairness.simultaneous import with_test_intervals
from deepaudit.audit.fairness.stats import percentile_interval

REPO = Path(__file__).resolve().parent.parent


def fairness_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame(
        {
            "group": rng.choice(["a", "b", "c", "d"], size=n, p=[0.55, 0.25, 0.15, 0.05]),
            "region": rng.choice(["x", "y", "z"], size=n),
        }
    )
    shift = sensitive["group"].map({"a": 0.0, "b": -0.05, "c": 0.05, "d": -0.1}).to_numpy()
    scores = np.clip(rng.beta(2, 2, size=n) + shift, 0, 1)
    labels = (rng.random(n) < scores).astype(np.int64)
    return labels, scores, sensitive


def new_intervals(y, s, sensitive, config, seed) -> float:
    """The audit's tables and tests with the simultaneous intervals; seconds."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    tables = GroupTables()
    for grouping in make_groupings(sensitive, list(sensitive.columns), 2, "bench"):
        cells = build_cells(y, s, grouping.codes, len(grouping.names), 0.5, 10)
        audit_cells(cells, grouping, ["1"], config, rng, tables)
    with_test_intervals(tables.test_rows, tables.test_contrasts, "simultaneous", 0.95)
    return time.perf_counter() - start


def old_intervals(y, s, sensitive, config, seed) -> float:
    """The same resamples read the old way: a percentile interval of each extreme."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    for grouping in make_groupings(sensitive, list(sensitive.columns), 2, "bench"):
        labels = np.asarray(grouping.names)[grouping.codes]
        analysis = analyse_groups(y, s, labels)
        rates, overall = bootstrap_rates(analysis, config.n_bootstrap, rng)
        gaps = disparity_arrays(rates, overall, np.ones(len(analysis.names), dtype=bool))
        for measure in gaps.values():
            for values in measure.values():
                percentile_interval(values[:, 0], 0.95)
    return time.perf_counter() - start


def fairlearn_seconds(y, s, groups, n_boot: int, budget: float) -> tuple[float, bool]:
    """MetricFrame(n_boot) on one grouping; extrapolated from a probe when over budget."""

    def run(boot: int) -> float:
        start = time.perf_counter()
        MetricFrame(
            metrics={"selection_rate": selection_rate},
            y_true=y,
            y_pred=(s > 0.5).astype(np.int64),
            sensitive_features=groups,
            n_boot=boot,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
        return time.perf_counter() - start

    probe = run(3) / 3
    if probe * n_boot <= budget:
        return run(n_boot), True
    boot = max(10, int(budget / probe))
    return run(boot) * n_boot / boot, False


def bench_fairness(n: int, budget: float) -> None:
    y, s, sensitive = fairness_data(n)
    config = FairnessConfig(n_bootstrap=1000)
    new = new_intervals(y, s, sensitive, config, 0)
    old = old_intervals(y, s, sensitive, config, 0)
    fl, exact = fairlearn_seconds(y, s, sensitive["group"].to_numpy(), 1000, budget)
    mark = "" if exact else "~"
    print(f"\n== Fairness at {n:,} rows, 1,000 resamples, 3 groupings ==")
    print(f"new (simultaneous max-T intervals): {new:.3f} s")
    print(f"old (percentile of each extreme):   {old:.3f} s   new / old = {new / old:.2f}")
    print(f"fairlearn MetricFrame(n_boot=1000), one grouping: {mark}{fl:.1f} s")
    print(f"fairlearn (one grouping) / deepaudit (three): {mark}{fl / new:,.0f}x")


def bench_steps() -> None:
    from deepaudit.models import list_models, load_model

    rows = []
    for name in list_models():
        target = load_model(name, device="cpu")
        for label, options in (
            ("fixed 16", {"n_steps": 16, "max_steps": 16}),
            ("adaptive", {}),
        ):
            config = da.AuditConfig(
                families=["explain"],
                options={
                    "explain": {
                        "methods": ["integrated_gradients"],
                        "randomisation_stages": 0,
                        "progress": False,
                        **options,
                    }
                },
                progress=False,
            )
            start = time.perf_counter()
            result = da.run_audit(target, config)["explain"]
            seconds = time.perf_counter() - start
            row = next(r for r in result.tables["quality"] if r["method"] == "integrated_gradients")
            rows.append(
                {
                    "model": name,
                    "steps": label,
                    "steps used": row["steps"],
                    "IG seconds": round(row["seconds"], 3),
                    "evaluations": row["evaluations"],
                    "completeness gap": f"{row['completeness_gap']:.2%}",
                    "explain seconds": round(seconds, 2),
                }
            )
    frame = pd.DataFrame(rows)
    print("\n== Integrated Gradients: fixed 16 steps vs adaptive (to 1 %) ==")
    print(frame.to_string(index=False))
    ratio = frame.pivot(index="model", columns="steps", values="IG seconds")
    ratio["adaptive / fixed"] = (ratio["adaptive"] / ratio["fixed 16"]).round(2)
    print(ratio.to_string())


def demo_seconds(tree: Path) -> float:
    """``deepaudit demo`` with the deepaudit of ``tree``, in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        code = "import sys; from deepaudit.cli import app; sys.argv[0] = 'deepaudit'; app()"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code, "demo", "--out", out, "--device", "cpu"],
            cwd=tempfile.gettempdir(),
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for fairlearn")
    parser.add_argument("--before", type=Path, help="a checkout of deepaudit before the change")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    pd.set_option("display.width", 160)
    bench_fairness(args.rows, args.budget)
    bench_steps()
    if not args.skip_demo:
        after = demo_seconds(REPO)
        print(
            f"\n== deepaudit demo (5 reference models, 2,000 samples) ==\nthis checkout: {after:.0f} s"
        )
        if args.before:
            before = demo_seconds(args.before.resolve())
            print(f"{args.before}: {before:.0f} s   after / before = {after / before:.2f}")


if __name__ == "__main__":
    main()
