"""Scale: a fairness audit at 100k, 1M and 10M rows, streamed and in memory, beside
fairlearn's MetricFrame; a 1M-row bundle opened in the dashboard; attribution
throughput on the local engine and on 1 and 2 Ray workers, beside captum itself.

Every configuration runs in a fresh subprocess, so its peak memory (maximum resident
set size) is its own. Run: ``.venv/bin/python benchmarks/bench_scale.py`` (about 10
minutes on 2 cores; ``--sizes 100000 1000000`` for a shorter run). Data is generated
once into ``--data-dir`` as parquet, written in chunks so generation stays small too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES = [f"f{i}" for i in range(8)]
CHUNK = 1_000_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_everything() -> float:
    """Import every library any configuration uses, then return the peak so far: the
    baseline that "over imports" subtracts, the same for every configuration."""
    import fairlearn.metrics  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch  # noqa: F401

    import deepaudit.audit.fairness
    import deepaudit.audit.overview  # noqa: F401

    return peak_mb()


# -- data and model -------------------------------------------------------------------------


def make_parquet(path: Path, rows: int) -> None:
    """``rows`` rows: 8 features, a label with a planted effect of ``sex``, two attributes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    tmp = path.with_suffix(".part")
    writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        rng = np.random.default_rng(start)
        x = rng.normal(size=(n, 8)).astype(np.float32)
        sex = rng.choice(np.array(["female", "male"]), n, p=[0.4, 0.6])
        race = rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.5, 0.3, 0.15, 0.05])
        y = (x[:, 0] + 0.8 * (sex == "male") + rng.normal(size=n) > 0.4).astype(np.int64)
        columns = {f: x[:, i] for i, f in enumerate(FEATURES)}
        columns.update(label=y, sex=sex, race=race)
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=256_000)
    writer.close()
    tmp.rename(path)


def model():
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    with torch.no_grad():
        net[0].weight[:, 0] += 1.0  # lean on f0, as the label does
    return net.eval()


FAIRNESS = {"counterfactual": False, "mitigation": False, "n_bootstrap": 300}


# -- children: one configuration each -------------------------------------------------------


def child_stream(path: Path, out: Path | None) -> dict:
    import deepaudit as da

    base = import_everything()
    t0 = time.perf_counter()
    target = da.Target(
        model(), modality="tabular", data=path, labels="label", sensitive=["sex", "race"],
        feature_names=FEATURES, device="cpu",
    )  # fmt: skip
    profiled = time.perf_counter() - t0
    config = da.AuditConfig(
        families=["fairness"], options={"fairness": FAIRNESS}, progress=False,
        output_dir=None if out is None else str(out),
    )  # fmt: skip
    bundle = da.run_audit(target, config)
    seconds = time.perf_counter() - t0
    rows = bundle["fairness"].tables["group_metrics"]
    return {
        "seconds": seconds,
        "profile_seconds": profiled,
        "peak_mb": peak_mb(),
        "after_imports_mb": base,
        "dp_difference": next(
            r["value"]
            for r in bundle["fairness"].tables["disparity_tests"]
            if r["grouping"] == "sex" and r["check"] == "demographic_parity"
        ),
        "groups": len(rows),
    }


def _load_arrays(path: Path):
    import pandas as pd

    frame = pd.read_parquet(path)
    return (
        frame[FEATURES].to_numpy(dtype=np.float32),
        frame["label"].to_numpy(),
        frame[["sex", "race"]],
    )


def child_memory(path: Path, out: Path | None = None) -> dict:
    import deepaudit as da

    base = import_everything()
    t0 = time.perf_counter()
    x, y, sensitive = _load_arrays(path)
    target = da.Target(
        model(), modality="tabular", data=x, labels=y, sensitive=sensitive,
        feature_names=FEATURES, device="cpu",
    )  # fmt: skip
    config = da.AuditConfig(
        families=["fairness"], options={"fairness": FAIRNESS}, progress=False,
        output_dir=None if out is None else str(out),
    )  # fmt: skip
    da.run_audit(target, config)
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "after_imports_mb": base}


def child_fairlearn(path: Path) -> dict:
    """fairlearn's MetricFrame on the same rows: point estimates only (its bootstrap,
    ``n_boot``, repeats the whole computation per resample)."""
    import torch
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    base = import_everything()
    t0 = time.perf_counter()
    x, y, sensitive = _load_arrays(path)
    net = model()
    with torch.no_grad():
        pred = np.concatenate(
            [
                net(torch.from_numpy(x[i : i + 65536])).argmax(1).numpy()
                for i in range(0, len(x), 65536)
            ]
        )
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "accuracy": accuracy_score,
        "precision": lambda a, b: precision_score(a, b, zero_division=0),
    }
    for features in (sensitive[["sex"]], sensitive[["race"]], sensitive):
        frame = MetricFrame(metrics=metrics, y_true=y, y_pred=pred, sensitive_features=features)
        frame.difference()
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "after_imports_mb": base}


def child_dashboard(run_dir: Path) -> dict:
    """Seconds to open the dashboard on a saved run and draw its fairness page."""
    from streamlit.testing.v1 import AppTest

    from deepaudit.dashboard import APP_PATH, state

    t0 = time.perf_counter()
    at = AppTest.from_file(str(APP_PATH), default_timeout=120)
    at.session_state[state.RUN_DIRS_KEY] = [str(run_dir.parent)]
    at.session_state[state.CURRENT_KEY] = run_dir.name
    at.switch_page("screens/fairness.py").run()
    assert not at.exception, at.exception
    size = sum(f.stat().st_size for f in run_dir.iterdir())
    return {"seconds": time.perf_counter() - t0, "bundle_mb": size / 2**20}


def _ray_env() -> dict:
    return {"RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}


def child_attribution(engine: str, workers: int, rows: int) -> dict:
    """Integrated Gradients on every row of the zoo cnn's test images, through the
    explain family on the chosen engine; Ray's start-up (actors importing torch and
    loading the model) is timed apart from the steady work."""
    from deepaudit.audit.engine import LocalEngine, RayEngine, use_engine
    from deepaudit.audit.explain import ExplainConfig
    from deepaudit.audit.explain.family import run_explain
    from deepaudit.models import load_model

    target = load_model("cnn", device="cpu").subset(np.arange(rows))
    config = ExplainConfig(
        methods=["integrated_gradients"], n_samples=2, every_row=True, n_threads=None,
        progress=False,
    )  # fmt: skip
    temp, startup = None, 0.0
    if engine == "ray":
        import ray

        temp = tempfile.mkdtemp(prefix="da-ray-")
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, _temp_dir=temp)  # fmt: skip
        runner = RayEngine(workers=workers)
        t0 = time.perf_counter()
        runner.start(target)
        startup = time.perf_counter() - t0
    else:
        runner = LocalEngine()
    try:
        with use_engine(runner):
            result = run_explain(target, config, 0)
    finally:
        runner.close()
        if temp is not None:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)
    seconds = result.metrics["every_row_seconds"]
    return {"seconds": seconds, "rows_per_second": rows / seconds, "startup": startup}


def child_captum(rows: int) -> dict:
    """captum's IntegratedGradients over the same rows, batch by batch, same steps and
    baseline (black images), on the predicted class: the library underneath. Timed in
    one process with deepaudit's kernel on the same batches, interleaved, so that the
    ratio is not the noise between two processes."""
    import dataclasses

    import torch
    from captum.attr import IntegratedGradients

    from deepaudit.audit.explain.case import prepare_case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.audit.explain.every_row import IntegratedGradientsKernel
    from deepaudit.models import load_model

    target = load_model("cnn", device="cpu").subset(np.arange(rows))
    config = ExplainConfig(methods=["integrated_gradients"], n_threads=None, progress=False)
    case = prepare_case(target, None, 0)
    kernel = IntegratedGradientsKernel(
        dataclasses.replace(case, target=None, subject=None), config, 0
    )
    batches = list(target.iter_batches())
    ig = IntegratedGradients(target.model)
    captum_seconds, ours_seconds = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        for batch in batches:
            with torch.no_grad():
                classes = target.model(batch.x).argmax(1)
            ig.attribute(batch.x, baselines=torch.zeros_like(batch.x), target=classes,
                         n_steps=config.n_steps, internal_batch_size=target.batch_size)  # fmt: skip
        captum_seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for batch in batches:
            kernel(target, batch)
        ours_seconds.append(time.perf_counter() - t0)
    return {
        "seconds": min(captum_seconds),
        "rows_per_second": rows / min(captum_seconds),
        "kernel_rows_per_second": rows / min(ours_seconds),
    }


# -- the parent: run children, print the tables ---------------------------------------------


def run_child(*args: str, env: dict | None = None) -> dict:
    command = [sys.executable, __file__, "--child", *args]
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "da-bench"))
    parser.add_argument("--attribution-rows", type=int, default=1000)
    # fairlearn took 98 s at 1M rows here, growing linearly: 10M would take ~16 minutes.
    parser.add_argument("--fairlearn-max", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], help="fairness dashboard attribution")
    parser.add_argument("--repeat", type=int, default=3, help="attribution runs per setting")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {
            "stream": lambda: child_stream(Path(rest[0]), Path(rest[1]) if len(rest) > 1 else None),
            "memory": lambda: child_memory(Path(rest[0]), Path(rest[1]) if len(rest) > 1 else None),
            "fairlearn": lambda: child_fairlearn(Path(rest[0])),
            "dashboard": lambda: child_dashboard(Path(rest[0])),
            "attribution": lambda: child_attribution(rest[0], int(rest[1]), int(rest[2])),
            "captum": lambda: child_captum(int(rest[0])),
        }[kind]()
        print(json.dumps(result))
        return

    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    runs = data / "runs"
    if "fairness" not in args.skip:
        print("Fairness audit (group + intersectional metrics, 300 bootstrap resamples)")
        print(
            f"{'rows':>11} | {'engine':<22} | {'seconds':>8} | {'peak MB':>8} | {'over imports':>12}"
        )
        for rows in args.sizes:
            path = data / f"rows-{rows}.parquet"
            t0 = time.perf_counter()
            make_parquet(path, rows)
            generated = time.perf_counter() - t0
            if generated > 1:
                print(f"  (generated {path.name} in {generated:.0f} s)")
            out = runs / f"rows-{rows}"
            shutil.rmtree(out, ignore_errors=True)
            results = {"deepaudit, streamed": run_child("stream", str(path), str(out))}
            out_memory = runs / f"rows-{rows}-in-memory"
            shutil.rmtree(out_memory, ignore_errors=True)
            results["deepaudit, in memory"] = run_child("memory", str(path), str(out_memory))
            if rows <= args.fairlearn_max:
                results["fairlearn MetricFrame*"] = run_child("fairlearn", str(path))
            for name, r in results.items():
                if "error" in r:
                    print(f"{rows:>11,} | {name:<22} | failed: {r['error']}")
                    continue
                print(
                    f"{rows:>11,} | {name:<22} | {r['seconds']:8.1f} | {r['peak_mb']:8.0f} | "
                    f"{r['peak_mb'] - r['after_imports_mb']:12.0f}"
                )
            s, m = results["deepaudit, streamed"], results["deepaudit, in memory"]
            f = results.get("fairlearn MetricFrame*", {})
            if "error" not in s and "error" not in m:
                line = (
                    f"{'':>11}   memory over imports, in memory / streamed: "
                    f"{(m['peak_mb'] - m['after_imports_mb']) / max(1, s['peak_mb'] - s['after_imports_mb']):.1f}x"
                )
                if f and "error" not in f:
                    line += f"; fairlearn time / streamed time: {f['seconds'] / s['seconds']:.2f}x"
                print(line)
        print("* fairlearn: point estimates only, no intervals (deepaudit: 300 resamples).")

    if "dashboard" not in args.skip:
        print("\nDashboard: open a saved run on its fairness page (Streamlit AppTest)")
        for rows in args.sizes:
            for how in ("", "-in-memory"):
                out = runs / f"rows-{rows}{how}"
                if not out.exists():
                    continue
                label = f"{rows:>11,} rows, {'in memory' if how else 'streamed'}:"
                r = run_child("dashboard", str(out))
                if "error" in r:
                    print(f"{label} failed: {r['error']}")
                else:
                    print(f"{label} {r['seconds']:.2f} s (bundle {r['bundle_mb']:.1f} MB)")

    if "attribution" not in args.skip:
        n = args.attribution_rows
        print(f"\nIntegrated Gradients on every row: {n} images of the zoo cnn")
        configurations = {
            "captum IntegratedGradients": ("captum", str(n)),
            "deepaudit, local engine": ("attribution", "local", "1", str(n)),
            "deepaudit, Ray, 1 worker": ("attribution", "ray", "1", str(n)),
            "deepaudit, Ray, 2 workers": ("attribution", "ray", "2", str(n)),
        }
        runs: dict[str, list[dict]] = {name: [] for name in configurations}
        for _ in range(args.repeat):  # interleaved, so drifts in machine load hit all alike
            for name, child in configurations.items():
                runs[name].append(run_child(*child, env=_ray_env() if "Ray" in name else None))
        results = {}
        for name, done in runs.items():
            good = [r for r in done if "error" not in r]
            if not good:
                results[name] = done[0]
                continue
            results[name] = {key: float(np.median([r[key] for r in good])) for key in good[0]}
        print(f"  (median of {args.repeat} runs each)")
        local = results["deepaudit, local engine"].get("rows_per_second")
        for name, r in results.items():
            if "error" in r:
                print(f"  {name:<28} failed: {r['error']}")
                continue
            ratio = f"{r['rows_per_second'] / local:.2f}x local" if local else ""
            startup = f"  (+{r['startup']:.1f} s starting workers)" if r.get("startup") else ""
            print(f"  {name:<28} {r['rows_per_second']:8.1f} rows/s  {ratio}{startup}")
        same = results["captum IntegratedGradients"]
        if "kernel_rows_per_second" in same:
            print(
                f"  in one process: deepaudit's IG kernel {same['kernel_rows_per_second']:.1f} "
                f"rows/s, captum {same['rows_per_second']:.1f} rows/s: deepaudit takes "
                f"{same['rows_per_second'] / same['kernel_rows_per_second']:.2f}x captum's time "
                "(it also measures completeness)"
            )


if __name__ == "__main__":
    main()
