"""What one forward pass of one sample costs, in floating-point operations, as torch's own
counter counts them: the unit in which budgets bound the time an audit of a large model
takes, the same on every machine (seconds would not be)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode


def forward_gflop(model: nn.Module, row: torch.Tensor) -> float | None:
    """GFLOP of ``model`` on the one-sample batch ``row`` (``None`` when the pass fails).

    Counted with gradients on (``nn.TransformerEncoderLayer``'s inference fast path hides
    its work from the counter) and attention on its math kernel (the counter knows no
    CPU flash kernel), so that a CPU and a GPU count alike. torch's counter covers
    convolutions, matrix products and attention; recurrent layers and element-wise work
    are not counted, so an LSTM reads as cheaper than it is.
    """
    try:
        with (
            FlopCounterMode(display=False) as counter,
            sdpa_kernel(SDPBackend.MATH),
            torch.enable_grad(),
            torch.random.fork_rng(devices=[row.device.index or 0] if row.is_cuda else []),
        ):
            model(row)
    except Exception:
        return None
    return counter.get_total_flops() / 1e9
