"""How many samples one batch holds: a memory budget (a share of the device's free memory
unless given) over what one sample costs in a forward and backward pass (measured)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

#: The share of the device's free memory a batch may take when no budget is given.
FREE_SHARE = 0.25
#: On a CPU the budget is at most this (MB): beyond it batches are no faster there, and a
#: budget far below the free memory keeps batch sizes, and so results, the same on
#: machines with more or less memory.
CPU_BUDGET_CAP_MB = 1024.0
#: The budget when the free memory cannot be read (MB).
FALLBACK_BUDGET_MB = 256.0
#: Copies of one sample's activations a backward pass keeps alive at its peak: those
#: saved for backward, their gradients, and the kernels' working memory.
BACKWARD_COPIES = 3
#: Without a measurement: float32 copies of an input a pass keeps per sample.
ASSUMED_INPUT_COPIES = 64
MAX_BATCH = 4096
_MB = 2**20


def free_memory_mb(device: torch.device) -> float | None:
    """Free memory on ``device`` in MB: CUDA's own count, else the kernel's MemAvailable
    (``None`` where neither can be read)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        # memory torch's allocator holds but does not use is free to this process too
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return (free + cached) / _MB
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def batch_budget_mb(device: torch.device, requested: float | None = None) -> float:
    """The memory a batch may take: ``requested`` when given, else a quarter of the
    device's free memory (on a CPU at most :data:`CPU_BUDGET_CAP_MB`)."""
    if requested is not None:
        return float(requested)
    free = free_memory_mb(device)
    if free is None:
        return FALLBACK_BUDGET_MB
    budget = FREE_SHARE * free
    if device.type != "cuda":
        budget = min(CPU_BUDGET_CAP_MB, budget)
    return max(1.0, budget)


def _tensor_bytes(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, list | tuple):
        return sum(_tensor_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    logits = getattr(value, "logits", None)  # a Hugging Face output object
    return _tensor_bytes(logits) if logits is not None else 0


def activation_bytes(model: nn.Module, row: torch.Tensor) -> int | None:
    """Bytes of every leaf module's output in a forward pass of one sample ``row``
    (batch of one), or ``None`` when the pass fails (the model probe reports why)."""
    total = [0]

    def hook(_module, _inputs, output) -> None:
        total[0] += _tensor_bytes(output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not any(m.children())]
    try:
        with torch.no_grad():
            model(row)
    except Exception:
        return None
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def sample_bytes(model: nn.Module, row: torch.Tensor) -> int:
    """What one sample costs in a forward and backward pass: its input and
    :data:`BACKWARD_COPIES` copies of its measured activations (without a measurement,
    :data:`ASSUMED_INPUT_COPIES` float32 copies of its input)."""
    measured = activation_bytes(model, row)
    if measured is None:
        return max(1, row.numel()) * 4 * ASSUMED_INPUT_COPIES
    return max(1, _tensor_bytes(row) + BACKWARD_COPIES * measured)


def batch_size_for(bytes_per_sample: int, budget_mb: float) -> int:
    """Samples per batch within ``budget_mb``: a power of two (so that a small change in
    the free memory seldom changes it), from 1 to :data:`MAX_BATCH`."""
    fit = int(budget_mb * _MB // max(1, bytes_per_sample))
    if fit < 1:
        return 1
    return min(MAX_BATCH, 1 << (fit.bit_length() - 1))
