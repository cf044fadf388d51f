"""PGD: deepaudit against captum.robust.PGD and ART's ProjectedGradientDescentPyTorch.

The same model (the zoo's coloured-digit CNN by default), the same batch, ε, number of
steps and step size, L∞, starting at the clean point. Every implementation does one
forward and one backward pass per step; the floor is ``steps ×`` the time of one
forward+backward pass of the batch, measured here. deepaudit runs twice: ``mode="last"``
(the same algorithm as the others, the last iterate kept) and its default
``mode="early_stop"`` (a sample leaves the batch once broken). Robust accuracy is printed
beside each time: the first three must agree.

Run: ``.venv/bin/python benchmarks/bench_robustness.py [--model cnn] [--batch 256]
[--steps 10 20] [--threads 1]``. Prints seconds (best of ``--repeats``), the ratio
other / deepaudit (above 1: deepaudit is faster) and deepaudit / floor.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from art.attacks.evasion import ProjectedGradientDescentPyTorch
from art.estimators.classification import PyTorchClassifier
from captum.robust import PGD as CaptumPGD

from deepaudit.audit.robustness import image_space, misclassification, pgd
from deepaudit.models import load_model


def best_of(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Least seconds over ``repeats`` runs, and what the last run returned."""
    times, value = [], float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--eps", type=float, default=4 / 255)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    # captum's PGD feeds FGSM inputs without requires_grad and warns at every step.
    warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require")
    if args.threads:
        torch.set_num_threads(args.threads)

    target = load_model(args.model, device="cpu")
    model = target.model.eval()
    x = target.data[: args.batch].clone()
    y = torch.as_tensor(target.labels[: args.batch])
    n_classes = target.n_classes
    lo, hi = target.input_range
    eps = args.eps
    space = image_space(x, (lo, hi), lambda inputs, rows: model(inputs))
    rows = torch.arange(len(x))
    objective = misclassification(y)

    def floor_pass() -> float:
        inputs = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(inputs), y, reduction="sum")
        torch.autograd.grad(loss, inputs)
        return float("nan")

    classifier = PyTorchClassifier(
        model=model,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=n_classes,
        clip_values=(lo, hi),
        device_type="cpu",
    )
    captum = CaptumPGD(
        model,
        loss_func=lambda out, labels: F.cross_entropy(out, labels, reduction="none"),
        lower_bound=lo,
        upper_bound=hi,
    )

    def accuracy(adversarial: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(adversarial).argmax(1) == y).double().mean())

    print(
        f"model {args.model}, batch {len(x)}, L∞ ε={eps:.4g}, no random start, "
        f"{torch.get_num_threads()} thread(s)"
    )
    header = f"{'steps':>5} {'implementation':<26} {'seconds':>8} {'robust acc':>10} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for steps in args.steps:
        step = 2.5 * eps / steps
        floor, _ = best_of(floor_pass, args.repeats)
        floor *= steps

        def ours(mode: str, steps=steps, step=step) -> float:
            result = pgd(
                space, rows, objective, eps, norm="Linf", steps=steps,
                relative_step_size=step / eps, mode=mode,
            )  # fmt: skip
            return float((~result.success).double().mean())

        def run_captum(steps=steps, step=step) -> float:
            adversarial = captum.perturb(
                x.clone(), radius=eps, step_size=step, step_num=steps, target=y, norm="Linf"
            )
            return accuracy(adversarial)

        def run_art(steps=steps, step=step) -> float:
            attack = ProjectedGradientDescentPyTorch(
                classifier, norm=np.inf, eps=eps, eps_step=step, max_iter=steps,
                num_random_init=0, batch_size=len(x), verbose=False,
            )  # fmt: skip
            return accuracy(torch.from_numpy(attack.generate(x.numpy(), y=y.numpy())))

        timings = {
            "deepaudit (last iterate)": best_of(lambda: ours("last"), args.repeats),
            "captum.robust.PGD": best_of(run_captum, args.repeats),
            "ART PGD (PyTorch)": best_of(run_art, args.repeats),
            "deepaudit (early stop)": best_of(lambda: ours("early_stop"), args.repeats),
        }
        base = timings["deepaudit (last iterate)"][0]
        for name, (seconds, acc) in timings.items():
            ratio = seconds / base if name.startswith(("captum", "ART")) else base / seconds
            label = f"{ratio:6.2f}×" if not name.endswith("(last iterate)") else "     —"
            print(f"{steps:>5} {name:<26} {seconds:>8.3f} {acc:>10.1%} {label:>7}")
        print(
            f"{steps:>5} {'floor: steps × fwd+bwd':<26} {floor:>8.3f} {'':>10} "
            f"{base / floor:6.2f}× (deepaudit / floor)"
        )
    print(
        "ratio: captum and ART rows, their seconds / deepaudit's (last iterate); the early-stop "
        "row, how many times faster than deepaudit's last-iterate run."
    )


if __name__ == "__main__":
    main()
