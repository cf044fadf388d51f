"""The one training loop every reference model uses.

Seeded, with a tqdm progress bar, early stopping on a validation score (the best
weights are restored at the end), and mixed precision (``torch.autocast`` with a
``GradScaler``) on CUDA; plain float32 on CPU. What one optimisation step does is a
``step`` callable, so a GAN's two-player update runs on the same machinery as a
classifier's.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from deepaudit.audit.device import resolve_device, seed_everything
from deepaudit.errors import ValidationError

MISSING_LOSS_MESSAGE = "A training step must return a dict with a 'loss' entry. Got keys {keys}."
NON_FINITE_LOSS_MESSAGE = (
    "Training {desc!r} diverged: the loss became {value} at step {step}. "
    "Lower the learning rate or check the inputs."
)

Batch = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class TrainConfig:
    """How long and how fast to train.

    ``patience`` is the number of epochs without a better validation score before
    stopping; ``max_steps`` cuts training short after that many optimiser steps (for
    smoke tests). ``min_epochs`` keeps early stopping from firing before then;
    ``validation=False`` skips validation (and so early stopping): the last weights stay.
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 3
    min_epochs: int = 1
    max_steps: int | None = None
    mixed_precision: bool = True
    validation: bool = True
    progress: bool = True


@dataclass
class TrainResult:
    """What one run of :func:`fit` did: losses per step, scores per epoch, timings."""

    step_losses: list[float] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_score: float | None = None
    seconds: float = 0.0
    epochs_run: int = 0
    steps: int = 0
    device: str = "cpu"
    mixed_precision: bool = False

    @property
    def seconds_per_epoch(self) -> float:
        times = [h["seconds"] for h in self.history]
        return float(np.mean(times)) if times else 0.0


class StepContext:
    """What a ``step`` callable needs: the device, autocast, and scaled backward."""

    def __init__(self, device: torch.device, mixed_precision: bool) -> None:
        self.device = device
        self.mixed_precision = mixed_precision
        self._scalers: dict[int, torch.amp.GradScaler] = {}

    def autocast(self) -> contextlib.AbstractContextManager:
        """float16 autocast on CUDA when mixed precision is on; a no-op otherwise."""
        if self.mixed_precision:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def backward_step(
        self,
        loss: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        clip_norm: float | None = None,
    ) -> None:
        """Backward, optional gradient clipping, optimiser step (loss-scaled under AMP).

        Each optimiser gets its own scaler, so alternating updates (a GAN's) are safe.
        """
        optimizer.zero_grad(set_to_none=True)
        if not self.mixed_precision:
            loss.backward()
            if clip_norm is not None:
                _clip(optimizer, clip_norm)
            optimizer.step()
            return
        scaler = self._scalers.setdefault(id(optimizer), torch.amp.GradScaler("cuda"))
        scaler.scale(loss).backward()
        if clip_norm is not None:
            scaler.unscale_(optimizer)
            _clip(optimizer, clip_norm)
        scaler.step(optimizer)
        scaler.update()


StepFn = Callable[[Batch, StepContext], Mapping[str, float]]


def _clip(optimizer: torch.optim.Optimizer, clip_norm: float) -> None:
    params = [p for group in optimizer.param_groups for p in group["params"]]
    nn.utils.clip_grad_norm_(params, clip_norm)


def iterate_batches(
    tensors: Sequence[torch.Tensor],
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
) -> Iterator[Batch]:
    """Mini-batches of in-memory tensors (faster than a DataLoader for small data)."""
    n = int(tensors[0].shape[0])
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield tuple(t[idx] for t in tensors)


def n_batches(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def supervised_step(
    model: nn.Module,
    optimizer_name: str,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizers: Mapping[str, torch.optim.Optimizer],
    clip_norm: float | None = None,
) -> StepFn:
    """The step of a model trained on ``(x, y)`` batches: forward, loss, backward."""

    def step(batch: Batch, ctx: StepContext) -> dict[str, float]:
        x, y = batch
        with ctx.autocast():
            loss = loss_fn(model(x), y)
        ctx.backward_step(loss, optimizers[optimizer_name], clip_norm)
        return {"loss": float(loss.detach())}

    return step


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    tensors: Sequence[torch.Tensor],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    device: torch.device,
    batch_size: int = 1024,
) -> float:
    """Mean loss over a data set, batched, in eval mode (the usual validation score)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in iterate_batches(tensors, batch_size, shuffle=False):
        batch = tuple(t.to(device) for t in batch)
        out = model(batch[0])
        loss = loss_fn(out, batch[-1])
        total += float(loss) * int(batch[0].shape[0])
        count += int(batch[0].shape[0])
    model.train(was_training)
    return total / max(count, 1)


def fit(
    modules: Mapping[str, nn.Module],
    make_optimizers: Callable[[Mapping[str, nn.Module]], Mapping[str, torch.optim.Optimizer]],
    make_step: Callable[[Mapping[str, torch.optim.Optimizer]], StepFn],
    train_data: Sequence[torch.Tensor],
    *,
    validate: Callable[[], float] | None,
    config: TrainConfig,
    seed: int,
    device: str | torch.device = "auto",
    desc: str = "train",
) -> TrainResult:
    """Train ``modules`` on ``train_data`` and keep the weights with the best validation.

    Parameters
    ----------
    modules
        The modules being trained, by name (``{"model": net}``, or a GAN's
        ``{"generator": g, "discriminator": d}``); moved to ``device``.
    make_optimizers, make_step
        Build the optimisers once the modules sit on the device, then the per-batch
        ``step(batch, ctx) -> {"loss": ..., ...}`` that uses them.
    train_data
        Tensors with one row per sample (``(x, y)`` or ``(x,)``), batched and shuffled
        with a generator seeded by ``seed``.
    validate
        Called after each epoch with the modules in eval mode; lower is better. The
        best epoch's weights are restored at the end. ``None``: keep the last weights.
    """
    device = resolve_device(device, "fit")
    use_amp = bool(config.mixed_precision and device.type == "cuda")
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    for module in modules.values():
        module.to(device).train()
    optimizers = make_optimizers(modules)
    step = make_step(optimizers)
    ctx = StepContext(device, use_amp)
    result = TrainResult(device=str(device), mixed_precision=use_amp)
    best_state: dict[str, dict[str, torch.Tensor]] | None = None
    bad_epochs = 0
    started = time.perf_counter()
    per_epoch = n_batches(int(train_data[0].shape[0]), config.batch_size)
    total = per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    bar = tqdm(total=total, desc=desc, unit="step", disable=not config.progress, leave=False)
    try:
        for epoch in range(config.epochs):
            epoch_start = time.perf_counter()
            losses: list[float] = []
            for batch in iterate_batches(
                train_data, config.batch_size, shuffle=True, generator=generator
            ):
                batch = tuple(t.to(device, non_blocking=True) for t in batch)
                out = step(batch, ctx)
                if "loss" not in out:
                    raise ValidationError(MISSING_LOSS_MESSAGE.format(keys=sorted(out)))
                loss = float(out["loss"])
                if not math.isfinite(loss):
                    raise ValidationError(
                        NON_FINITE_LOSS_MESSAGE.format(desc=desc, value=loss, step=result.steps)
                    )
                losses.append(loss)
                result.step_losses.append(loss)
                result.steps += 1
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4f}")
                if config.max_steps is not None and result.steps >= config.max_steps:
                    break
            if config.max_steps is not None and result.steps >= config.max_steps:
                break  # a smoke run: no validation, keep the last weights
            score = None
            if validate is not None and config.validation:
                for module in modules.values():
                    module.eval()
                with torch.no_grad():
                    score = float(validate())
                for module in modules.values():
                    module.train()
            result.epochs_run = epoch + 1
            result.history.append(
                {
                    "epoch": epoch + 1,
                    "train_loss": float(np.mean(losses)) if losses else None,
                    "validation": score,
                    "seconds": time.perf_counter() - epoch_start,
                }
            )
            if score is None:
                continue
            if result.best_score is None or score < result.best_score:
                result.best_score, result.best_epoch = score, epoch + 1
                best_state = _snapshot(modules)
                bad_epochs = 0
            else:
                bad_epochs += 1
                if bad_epochs >= config.patience and epoch + 1 >= config.min_epochs:
                    break
    finally:
        bar.close()
    if best_state is not None:
        for name, module in modules.items():
            module.load_state_dict(best_state[name])
    for module in modules.values():
        module.eval()
    result.seconds = time.perf_counter() - started
    return result


def _snapshot(modules: Mapping[str, nn.Module]) -> dict[str, dict[str, torch.Tensor]]:
    return {
        name: {k: v.detach().clone() for k, v in module.state_dict().items()}
        for name, module in modules.items()
    }
