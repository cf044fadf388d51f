"""Bootstrap intervals of group metrics: deepaudit against fairlearn's MetricFrame.

Both draw the ordinary bootstrap (the N rows resampled with replacement) and report
percentile intervals of each group's selection rate and true-positive rate and of the
demographic-parity difference. fairlearn recomputes a MetricFrame on each resample's
rows; deepaudit draws the resample's counts over the cells of (group, label, decision,
score bin) from a multinomial law and reads every metric from them
(``group_metrics(..., n_boot=...)``).

fairlearn's ``MetricFrame(n_boot=1000)`` takes about a second per resample at 100,000
rows on a small CPU, so it runs under a time budget: a short probe measures its cost per
resample; when 1,000 resamples would exceed ``--budget`` seconds it runs as many as fit
(at least ``--min-boot``) and its time for 1,000 is extrapolated linearly (marked ``~``).
Its intervals then come from fewer resamples, which is said beside them.

A third column checks the intervals at the full number of resamples: the same ordinary
bootstrap done row by row in numpy (indices drawn with replacement, metrics by
``bincount``), which is what fairlearn computes, without its per-resample overhead.

Run: ``.venv/bin/python benchmarks/bench_fairness.py [--rows 100000 1000000]
[--budget 120]``. Prints seconds, the ratio fairlearn / deepaudit (above 1: deepaudit is
faster) and the intervals side by side.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

from deepaudit.audit.fairness import group_metrics
from deepaudit.audit.fairness.metrics import (
    analyse_groups,
    bootstrap_rates,
    disparity_arrays,
)
from deepaudit.audit.fairness.stats import percentile_interval

GROUPS = np.array(["a", "b", "c", "d"])
SHARES = [0.55, 0.25, 0.15, 0.05]
QUANTILES = [0.025, 0.975]


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, labels and four groups of unequal size with unequal selection rates."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(GROUPS, size=n, p=SHARES)
    shift = pd.Series(groups).map({"a": 0.0, "b": -0.05, "c": 0.05, "d": -0.1}).to_numpy()
    scores = np.clip(rng.beta(2, 2, size=n) + shift, 0, 1)
    labels = (rng.random(n) < scores).astype(np.int64)
    return labels, scores, groups


def deepaudit_intervals(y, s, g, n_boot: int, seed: int) -> tuple[float, pd.DataFrame, tuple]:
    """Seconds, group intervals and the demographic-parity difference interval."""
    start = time.perf_counter()
    frame = group_metrics(y, s, g, n_boot=n_boot, random_state=seed)
    seconds = time.perf_counter() - start
    # The disparity interval from the same kind of resample (as the audit computes it).
    analysis = analyse_groups(y, s, g)
    rates, overall = bootstrap_rates(analysis, n_boot, np.random.default_rng(seed))
    gaps = disparity_arrays(rates, overall, np.ones(len(analysis.names), dtype=bool))
    low, high = percentile_interval(gaps["demographic_parity"]["difference"][:, 0], 0.95)
    return seconds, frame, (float(low), float(high))


def fairlearn_frame(y, s, g, n_boot: int, seed: int) -> MetricFrame:
    return MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate},
        y_true=y,
        y_pred=(s > 0.5).astype(np.int64),
        sensitive_features=g,
        n_boot=n_boot,
        ci_quantiles=QUANTILES,
        random_state=seed,
    )


def fairlearn_intervals(y, s, g, target_boot: int, budget: float, min_boot: int, seed: int):
    """Run MetricFrame under the time budget; return what ran, its time and the estimate."""
    probe_boot = 3
    start = time.perf_counter()
    fairlearn_frame(y, s, g, probe_boot, seed)
    per_resample = (time.perf_counter() - start) / probe_boot
    n_boot = target_boot
    if per_resample * target_boot > budget:
        n_boot = max(min_boot, int(budget / per_resample))
    start = time.perf_counter()
    mf = fairlearn_frame(y, s, g, n_boot, seed)
    seconds = time.perf_counter() - start
    estimate = seconds * target_boot / n_boot
    return mf, n_boot, seconds, estimate


def row_bootstrap(y, s, g, n_boot: int, seed: int) -> tuple[float, dict]:
    """The ordinary bootstrap row by row: seconds, and 95 % intervals per metric and group."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    codes = np.searchsorted(GROUPS, g)
    pred = s > 0.5
    k = len(GROUPS)
    selection = np.empty((n_boot, k))
    tpr = np.empty((n_boot, k))
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        c, p, t = codes[idx], pred[idx], y[idx] == 1
        n = np.bincount(c, minlength=k)
        selection[b] = np.bincount(c, weights=p, minlength=k) / n
        tpr[b] = np.bincount(c, weights=p & t, minlength=k) / np.bincount(c, weights=t, minlength=k)
    seconds = time.perf_counter() - start
    dp = selection.max(axis=1) - selection.min(axis=1)
    bounds = {
        "selection_rate": np.quantile(selection, QUANTILES, axis=0),
        "tpr": np.quantile(tpr, QUANTILES, axis=0),
        "dp": np.quantile(dp, QUANTILES),
    }
    return seconds, bounds


def side_by_side(
    frame: pd.DataFrame, mf: MetricFrame, ours_dp, n_boot_fl: int, rows_ci: dict, n_boot: int
) -> pd.DataFrame:
    rows = []
    low, high = mf.by_group_ci
    ours = frame.set_index("group")
    rows_label = f"rows resampled ({n_boot})"
    for metric in ("selection_rate", "tpr"):
        for group in GROUPS:
            rows.append(
                {
                    "metric": metric,
                    "group": group,
                    "value": ours.loc[group, metric],
                    "deepaudit": f"[{ours.loc[group, f'{metric}_low']:.4f}, "
                    f"{ours.loc[group, f'{metric}_high']:.4f}]",
                    f"fairlearn ({n_boot_fl})": f"[{low[metric][group]:.4f}, "
                    f"{high[metric][group]:.4f}]",
                    rows_label: _pair(rows_ci[metric][:, list(GROUPS).index(group)]),
                }
            )
    fl_low, fl_high = mf.difference_ci()
    rows.append(
        {
            "metric": "demographic parity difference",
            "group": "between groups",
            "value": float(mf.difference()["selection_rate"]),
            "deepaudit": f"[{ours_dp[0]:.4f}, {ours_dp[1]:.4f}]",
            f"fairlearn ({n_boot_fl})": f"[{fl_low['selection_rate']:.4f}, "
            f"{fl_high['selection_rate']:.4f}]",
            rows_label: _pair(rows_ci["dp"]),
        }
    )
    return pd.DataFrame(rows)


def _pair(bounds) -> str:
    return f"[{bounds[0]:.4f}, {bounds[1]:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds for fairlearn")
    parser.add_argument("--min-boot", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pd.set_option("display.width", 140)
    summary = []
    for n in args.rows:
        y, s, g = make_data(n, args.seed)
        seconds, frame, ours_dp = deepaudit_intervals(y, s, g, args.n_boot, args.seed)
        rows_seconds, rows_ci = row_bootstrap(y, s, g, args.n_boot, args.seed)
        mf, n_fl, fl_seconds, fl_estimate = fairlearn_intervals(
            y, s, g, args.n_boot, args.budget, args.min_boot, args.seed
        )
        exact = n_fl == args.n_boot
        summary.append(
            {
                "rows": n,
                "resamples": args.n_boot,
                "deepaudit s": round(seconds, 3),
                "fairlearn s": (
                    f"{fl_estimate:.1f}"
                    if exact
                    else f"~{fl_estimate:.0f} ({n_fl} took {fl_seconds:.1f})"
                ),
                "ratio": ("" if exact else "~") + f"{fl_estimate / seconds:.0f}x",
                "numpy rows s": round(rows_seconds, 2),
            }
        )
        print(f"\n== {n:,} rows, {args.n_boot} resamples ==")
        print(f"deepaudit group_metrics(n_boot={args.n_boot}): {seconds:.3f} s")
        print(
            f"fairlearn MetricFrame(n_boot={n_fl}): {fl_seconds:.1f} s"
            + ("" if exact else f" -> ~{fl_estimate:.0f} s for {args.n_boot} (linear)")
        )
        print(f"numpy row bootstrap ({args.n_boot}): {rows_seconds:.2f} s")
        print(side_by_side(frame, mf, ours_dp, n_fl, rows_ci, args.n_boot).to_string(index=False))
    print("\n== summary (ratio: fairlearn / deepaudit) ==")
    print(pd.DataFrame(summary).to_string(index=False))


if __name__ == "__main__":
    main()
