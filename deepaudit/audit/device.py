"""Device choice, seeds and threads shared by every audit (batch sizes: :mod:`memory`)."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from deepaudit.errors import parameter_error

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device, owner: str = "Target") -> torch.device:
    """``"auto"`` means CUDA when present, else CPU; ``"cuda"`` without CUDA is an error."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not (device in DEVICE_CHOICES or device.startswith("cuda:")):
        raise parameter_error("device", owner, "one of 'auto', 'cpu', 'cuda' or 'cuda:N'", device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise parameter_error("device", owner, "'cpu' or 'auto' on a machine without CUDA", device)
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) so that a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def has_recurrent_layers(model: nn.Module) -> bool:
    return any(isinstance(m, nn.RNNBase) for m in model.modules())


@contextlib.contextmanager
def gradient_context(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Make backward work on models in eval mode.

    cuDNN's RNN kernels refuse backward in eval mode ("cudnn RNN backward can only be
    called in training mode"); turning cuDNN off for the call keeps eval semantics
    (no dropout) and lets gradients flow. On CPU there is nothing to do.
    """
    if device.type == "cuda" and has_recurrent_layers(model):
        with torch.backends.cudnn.flags(enabled=False), torch.enable_grad():
            yield
    else:
        with torch.enable_grad():
            yield


def default_threads() -> int:
    """Half the cores this process may use (at least 1, at most torch's own count): on a
    machine shared with another busy process, torch's threads then do not spin-wait on
    each other (on 2 busy cores an LSTM audit ran 14× longer with 2 threads than with 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), cores // 2))


@contextlib.contextmanager
def limited_threads(n: int | None) -> Iterator[None]:
    """At most ``n`` threads in torch's CPU kernels and in OpenMP/BLAS while the block runs,
    restored afterwards (``None``: leave them). torch keeps its own intra-op thread count,
    which threadpoolctl does not change, so both are set."""
    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(previous)
