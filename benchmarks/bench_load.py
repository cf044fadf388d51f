"""The demo's audits alone and beside a CPU-bound process: what competing load costs.

Each scenario runs in a fresh process: the reference models' default audits (as
``deepaudit demo`` runs them: 2,000 samples, every applicable family) with a given
``AuditConfig(n_threads=...)``. Beside it, for the loaded scenarios, ``--hogs`` processes
spin on the CPU (one per two cores by default: on 2 cores, one busy neighbour).

Scenarios: quiet with the default threads (``"auto"``), loaded with the default, and
loaded with torch's own count (every core: what every family but explain and generative
used before ``AuditConfig.n_threads``). The ratio loaded / quiet is the number to read;
the goal is at most 2×.

Run: ``.venv/bin/python benchmarks/bench_load.py [--models lstm cnn] [--hogs N]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

AUDIT = """
import json, sys, time
from deepaudit.audit import AuditConfig, run_audit
from deepaudit.cli import DEMO_SAMPLES, _applicable_families
from deepaudit.models import load_model
threads = json.loads(sys.argv[1])
seconds = {}
for name in sys.argv[2:]:
    target = load_model(name, device="cpu")
    config = AuditConfig(families=_applicable_families(target, None), device="cpu",
                         max_samples=DEMO_SAMPLES, progress=False, n_threads=threads)
    t0 = time.perf_counter()
    bundle = run_audit(target, config)
    seconds[name] = {"total": time.perf_counter() - t0,
                     **{f: r.seconds for f, r in bundle.families.items()}}
print(json.dumps(seconds))
"""


def spin(stop: multiprocessing.Event) -> None:
    """A CPU-bound neighbour: pure Python arithmetic until told to stop."""
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x = (x + i * i) % 1_000_003


def audit_seconds(models: list[str], threads, hogs: int) -> dict:
    stop = multiprocessing.Event()
    neighbours = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(hogs)]
    for process in neighbours:
        process.start()
    try:
        out = subprocess.run(
            [sys.executable, "-c", AUDIT, json.dumps(threads), *models],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        stop.set()
        for process in neighbours:
            process.join()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["lstm", "cnn"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser.add_argument("--hogs", type=int, default=max(1, cores // 2))
    args = parser.parse_args()
    import torch

    every_core = torch.get_num_threads()
    print(f"{cores} cores; torch's own threads: {every_core}; neighbours: {args.hogs}")
    scenarios = [
        ("quiet, n_threads='auto'", "auto", 0),
        ("beside load, n_threads='auto'", "auto", args.hogs),
        (f"beside load, n_threads={every_core} (torch's own)", every_core, args.hogs),
    ]
    results = {}
    for label, threads, hogs in scenarios:
        t0 = time.perf_counter()
        results[label] = audit_seconds(args.models, threads, hogs)
        print(f"  {label}: {time.perf_counter() - t0:.1f} s", flush=True)
    quiet = results[scenarios[0][0]]
    families = list(dict.fromkeys(f for r in quiet.values() for f in r if f != "total"))
    print()
    print(
        f"{'scenario':46s} {'model':8s} {'total':>7s} {'ratio':>6s}  "
        + " ".join(f"{f[:10]:>10s}" for f in families)
    )
    for label, _, _ in scenarios:
        for model, row in results[label].items():
            ratio = row["total"] / quiet[model]["total"]
            cells = " ".join(f"{row.get(f, float('nan')):10.1f}" for f in families)
            print(f"{label:46s} {model:8s} {row['total']:7.1f} {ratio:5.2f}×  {cells}")


if __name__ == "__main__":
    main()
