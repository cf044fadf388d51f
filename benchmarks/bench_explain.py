"""The explain family's attributions against the libraries underneath, on the same model
and inputs (the ``cnn`` reference model, 64 held-out images).

1. deepaudit's Integrated Gradients, GradientSHAP and Occlusion against direct captum
   calls with captum's defaults (same method settings, captum's default batching);
2. Integrated Gradients against its floor: ``n_steps`` × one forward+backward pass over
   the inputs (the least any implementation can do);
3. deepaudit's SHAP-family attributions (captum GradientSHAP and its
   shap.GradientExplainer adapter) against shap.GradientExplainer called directly, with
   the rank agreement of their maps.

Each time is the best of ``--repeats`` runs (the machine is shared). Ratios above 1 mean
deepaudit is slower. Run: ``.venv/bin/python benchmarks/bench_explain.py [--threads 1]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from captum.attr import GradientShap, IntegratedGradients, Occlusion

from deepaudit.audit.explain import METHODS, ExplainConfig
from deepaudit.audit.explain.case import build_case
from deepaudit.audit.explain.methods._shap import import_shap
from deepaudit.audit.explain.quality import nanmean, rank_agreement
from deepaudit.audit.memory import batch_budget_mb
from deepaudit.models import load_model


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def row(name: str, ours: float, theirs: float, note: str = "") -> None:
    print(f"{name:<44} {ours:8.3f} s {theirs:8.3f} s {ours / theirs:7.2f}x  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="images explained")
    parser.add_argument("--steps", type=int, default=50, help="IG steps (captum's default)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")

    target = load_model("cnn", device="cpu")
    case = build_case(target, args.n, 16, seed=0)
    subject, x, classes = case.subject, case.inputs, case.classes
    model = target.model
    print(
        f"cnn: {len(x)} images of {tuple(x.shape[1:])}, torch threads {torch.get_num_threads()}, "
        f"deepaudit batch {target.batch_size} rows (from a "
        f"{batch_budget_mb(target.device, target.memory_budget_mb):.0f} MB budget)"
    )
    print(f"{'':<44} {'deepaudit':>10} {'reference':>10} {'ratio':>8}")

    def run(method: str, **settings):
        cfg = ExplainConfig(progress=False, **settings)
        spec = METHODS[method]
        return lambda: spec.compute(case, subject, x, classes, cfg, 0)

    # 1. against captum's defaults ----------------------------------------------------
    ours, ig_ours = best_of(args.repeats, run("integrated_gradients", n_steps=args.steps))
    theirs, ig_theirs = best_of(
        args.repeats,
        lambda: IntegratedGradients(model).attribute(
            x, baselines=torch.zeros_like(x), target=classes, n_steps=args.steps
        ),
    )
    same = np.abs(ig_ours.values - ig_theirs.detach().numpy()).max()
    row("Integrated Gradients vs captum default", ours, theirs, f"max |diff| {same:.1e}")
    ig_seconds = ours

    background = case.background
    ours, _ = best_of(args.repeats, run("gradient_shap", n_noise_samples=5))
    theirs, _ = best_of(
        args.repeats,
        lambda: GradientShap(model).attribute(x, baselines=background, target=classes),
    )
    row("GradientSHAP (5 samples) vs captum default", ours, theirs)

    ours, occ_ours = best_of(args.repeats, run("occlusion", occlusion_window=7))
    theirs, occ_theirs = best_of(
        args.repeats,
        lambda: Occlusion(model).attribute(
            x, sliding_window_shapes=(3, 7, 7), strides=(3, 7, 7), target=classes
        ),
    )
    same = np.abs(occ_ours.values - occ_theirs.detach().numpy()).max()
    row("Occlusion (7×7 windows) vs captum default", ours, theirs, f"max |diff| {same:.1e}")

    # 2. IG against its floor -------------------------------------------------------------
    def forward_backward() -> None:
        inputs = x.clone().requires_grad_(True)
        out = model(inputs).gather(1, classes[:, None]).sum()
        torch.autograd.grad(out, inputs)

    one, _ = best_of(max(3, args.repeats), forward_backward)
    floor = args.steps * one
    row(f"Integrated Gradients vs floor ({args.steps} × fwd+bwd)", ig_seconds, floor)
    captum_default, _ = best_of(
        args.repeats,
        lambda: IntegratedGradients(model).attribute(x, target=classes, n_steps=args.steps),
    )
    row("captum default IG vs the same floor", captum_default, floor)

    # 3. the SHAP family against shap.GradientExplainer -------------------------------
    shap = import_shap()
    nsamples = 16

    def direct() -> np.ndarray:
        explainer = shap.GradientExplainer(model, background)
        values, _ = explainer.shap_values(x, nsamples=nsamples, ranked_outputs=1, rseed=0)
        return np.asarray(values)[..., 0]

    theirs, shap_direct = best_of(args.repeats, direct)
    ours, shap_ours = best_of(args.repeats, run("shap_gradient", n_noise_samples=nsamples))
    agreement = nanmean(
        rank_agreement(case.space.scores(shap_ours.values), case.space.scores(shap_direct))
    )
    row(
        f"SHAP GradientExplainer adapter vs shap ({nsamples} samples)",
        ours,
        theirs,
        f"rank agreement {agreement:.2f} (same seed)",
    )
    ours, gs = best_of(args.repeats, run("gradient_shap", n_noise_samples=nsamples))
    agreement = nanmean(
        rank_agreement(case.space.scores(gs.values), case.space.scores(shap_direct))
    )
    row(
        f"GradientSHAP (captum) vs shap ({nsamples} samples)",
        ours,
        theirs,
        f"rank agreement {agreement:.2f}",
    )


if __name__ == "__main__":
    main()
