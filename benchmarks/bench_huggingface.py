"""A Hugging Face model through deepaudit: the tiny BERT of the tests (2 layers, 32 wide,
a WordPiece vocabulary trained here), unwrapped.

1. The default audit (every family that applies) of ``--texts`` snippets: seconds and
   peak resident memory, in a fresh process.
2. Integrated Gradients on 32 snippets: deepaudit's explain family (fixed steps) against
   captum's ``LayerIntegratedGradients`` called directly on the same model, and both
   against the floor, ``n_steps`` × one forward+backward pass of the batch.

Ratios above 1 mean slower. Run: ``.venv/bin/python benchmarks/bench_huggingface.py
[--texts 256] [--steps 32]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

AUDIT = """
import json, resource, sys, time
import numpy as np
import deepaudit as da
from deepaudit.cli import _applicable_families
from tests.audit import hf_toys
texts, labels = hf_toys.texts(int(sys.argv[1]))
target = da.Target.from_huggingface(hf_toys.bert(), hf_toys.tokenizer(), texts, labels=labels,
    sensitive={"g": np.where(np.arange(len(texts)) % 2 == 0, "a", "b")}, device="cpu")
families = _applicable_families(target, None)
t0 = time.perf_counter()
bundle = da.run_audit(target, da.AuditConfig(families=families, progress=False))
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "families": {f: r.seconds for f, r in bundle.families.items()},
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def in_fresh_process(script: str, *args: str) -> dict:
    """Run ``script`` in a new interpreter (so its peak memory is its own) and read the
    JSON object its last line prints."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def interleaved(functions, repeats: int = 5) -> list[float]:
    """The best time of each function, run in turns (a shared machine's load then falls
    on each alike)."""
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for i, fn in enumerate(functions):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def integrated_gradients(steps: int) -> None:
    import numpy as np
    import torch
    from captum.attr import LayerIntegratedGradients

    import deepaudit as da
    from deepaudit.audit.explain.case import build_case
    from deepaudit.audit.explain.methods._captum import _integrated_gradients
    from deepaudit.audit.explain.subject import Subject, layer_of
    from tests.audit import hf_toys

    texts, labels = hf_toys.texts(32, seed=1)
    target = da.Target.from_huggingface(
        hf_toys.bert(), hf_toys.tokenizer(), texts, labels=labels, device="cpu"
    )
    case = build_case(target, 32, 8, seed=0)
    subject = Subject(target)
    x, classes = case.inputs, case.classes

    def ours_fn():
        _integrated_gradients(case, subject, x, classes, steps)

    layer = layer_of(target.model, case.layer)
    baselines = case.baselines(x)

    def direct():
        LayerIntegratedGradients(target.model, layer).attribute(
            x, baselines=baselines, target=classes, n_steps=steps, internal_batch_size=len(x)
        )

    def one_pass():
        out = target.model(x)
        out.gather(1, classes.reshape(-1, 1)).sum().backward()

    ours, captum, floor = interleaved([ours_fn, direct, one_pass])
    floor *= steps
    print(f"Integrated Gradients, {len(x)} snippets, {steps} steps (best of 5, in turns):")
    print(f"  deepaudit {ours:.2f} s, captum direct {captum:.2f} s, floor {floor:.2f} s")
    print(f"  deepaudit / captum {ours / captum:.2f}×; deepaudit / floor {ours / floor:.2f}×")
    del np, torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args()
    audit = in_fresh_process(AUDIT, str(args.texts))
    print(
        f"Default audit of {args.texts} snippets: {audit['seconds']:.1f} s, "
        f"peak {audit['peak_mb']:.0f} MB"
    )
    for family, seconds in audit["families"].items():
        print(f"  {family:12s} {seconds:6.1f} s")
    integrated_gradients(args.steps)


if __name__ == "__main__":
    main()
