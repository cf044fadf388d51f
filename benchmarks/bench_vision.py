"""A full-size vision model through deepaudit: torchvision's ResNet-18 (random weights) on
coloured digits upsampled to 224 x 224.

1. The default audit (every family that applies) of ``--images`` images: seconds and
   peak resident memory, in a fresh process, with the batch size chosen.
2. Integrated Gradients on ``--batch`` images at ``--steps`` steps: deepaudit's against
   captum's ``IntegratedGradients`` called directly, and both against the floor,
   ``steps`` x one forward+backward pass of the batch.
3. PGD (L∞, ``--steps`` steps, the final iterate as ART and captum return it) on the
   same images against the same floor.

Ratios above 1 mean slower. Run: ``.venv/bin/python benchmarks/bench_vision.py
[--images 64] [--batch 8] [--steps 16]`` (needs the ``vision`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_huggingface import in_fresh_process, interleaved  # noqa: E402

AUDIT = """
import json, resource, sys, time
import deepaudit as da
from deepaudit.cli import _applicable_families
from tests.audit import vision_toys
images = vision_toys.digits_224(int(sys.argv[1]))
target = da.Target(vision_toys.resnet18(), modality="image", data=images["x"],
    labels=images["y"], class_names=images["class_names"],
    sensitive={"colour": images["colour"]}, input_range=(0.0, 1.0), device=sys.argv[2])
families = _applicable_families(target, None)
t0 = time.perf_counter()
bundle = da.run_audit(target, da.AuditConfig(families=families, progress=False))
peak_gpu = 0.0
if target.device.type == "cuda":
    import torch
    peak_gpu = torch.cuda.max_memory_allocated(target.device) / 2**20
print(json.dumps({"seconds": time.perf_counter() - t0, "batch_size": target.batch_size,
                  "families": {f: r.seconds for f, r in bundle.families.items()},
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_gpu_mb": peak_gpu}))
"""


def kernels(batch: int, steps: int, device: str) -> None:
    import torch
    import torch.nn.functional as F
    from captum.attr import IntegratedGradients

    import deepaudit as da
    from deepaudit.audit.explain.case import build_case
    from deepaudit.audit.explain.methods._captum import _integrated_gradients
    from deepaudit.audit.explain.subject import Subject
    from deepaudit.audit.robustness import image_space, misclassification, pgd
    from tests.audit import vision_toys

    images = vision_toys.digits_224(batch, seed=1)
    model = vision_toys.resnet18()
    target = da.Target(
        model,
        modality="image",
        data=images["x"],
        labels=images["y"],
        class_names=images["class_names"],
        input_range=(0.0, 1.0),
        device=device,
        batch_size=batch,
    )
    case = build_case(target, batch, 4, seed=0)
    subject = Subject(target)
    x, classes = case.inputs.to(target.device), case.classes.to(target.device)
    y = torch.as_tensor(images["y"], device=target.device)
    baselines = case.baselines(case.inputs).to(target.device)
    model = target.model

    def sync() -> None:
        if target.device.type == "cuda":
            torch.cuda.synchronize()

    def ours_ig():
        _integrated_gradients(case, subject, case.inputs, case.classes, steps)
        sync()

    def captum_ig():
        IntegratedGradients(model).attribute(
            x, baselines=baselines, target=classes, n_steps=steps, internal_batch_size=len(x)
        )
        sync()

    space = image_space(x, (0.0, 1.0), lambda inputs, rows: model(inputs))
    rows = torch.arange(len(x), device=target.device)
    objective = misclassification(y)

    def ours_pgd():
        pgd(space, rows, objective, 4 / 255, norm="Linf", steps=steps, mode="last")
        sync()

    def one_pass():
        inputs = x.clone().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(inputs), y, reduction="sum"), inputs)
        sync()

    ig, captum, attack, floor = interleaved([ours_ig, captum_ig, ours_pgd, one_pass], repeats=3)
    floor *= steps
    print(f"{len(x)} images, {steps} steps, on {target.device} (best of 3, in turns):")
    print(f"  Integrated Gradients: deepaudit {ig:.2f} s, captum direct {captum:.2f} s")
    print(f"    deepaudit / captum {ig / captum:.2f}x; deepaudit / floor {ig / floor:.2f}x")
    print(f"  PGD: deepaudit {attack:.2f} s; deepaudit / floor {attack / floor:.2f}x")
    print(f"  floor ({steps} forward+backward passes of the batch): {floor:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--skip-audit", action="store_true")
    args = parser.parse_args()
    if not args.skip_audit:
        audit = in_fresh_process(AUDIT, str(args.images), args.device)
        print(
            f"Default audit of {args.images} images at 224 x 224: {audit['seconds']:.1f} s, "
            f"peak {audit['peak_mb']:.0f} MB resident, {audit['peak_gpu_mb']:.0f} MB on the GPU,"
            f" batches of {audit['batch_size']}"
        )
        for family, seconds in audit["families"].items():
            print(f"  {family:12s} {seconds:6.1f} s")
    kernels(args.batch, args.steps, args.device)


if __name__ == "__main__":
    main()
