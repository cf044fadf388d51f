"""What one forward pass of one sample costs, in floating-point operations, as torch's own
counter counts them: the unit in which budgets bound the time an audit of a large model
takes, the same on every machine (seconds would not be)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def forward_gflop(model: nn.Module, row: torch.Tensor) -> float | None:
    """GFLOP of ``model`` on the one-sample batch ``row`` (``None`` when the pass fails).

    torch's counter covers convolutions, matrix products and attention; recurrent layers
    and element-wise work are not counted, so an LSTM reads as cheaper than it is.
    """
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(row)
    except Exception:
        return None
    return counter.get_total_flops() / 1e9
