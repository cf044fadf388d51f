"""What every attribution method declares, and the helpers the adapters share."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from deepaudit.audit.explain.registry import MethodSpec  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from deepaudit.audit.explain.case import Case
    from deepaudit.audit.explain.config import ExplainConfig
    from deepaudit.audit.explain.subject import Subject


@dataclass
class Attribution:
    """Attributions of one method over the inputs (N×input shape; text: N×L).

    ``gap`` is the completeness gap per sample where the method has one: the sum of the
    attributions minus the output difference they should add up to; ``output_scale`` the
    size of the outputs it is read against (``(|f(x)| + |f(baseline)|) / 2``), ``steps``
    the path steps a path method used.
    """

    values: np.ndarray
    gap: np.ndarray | None = None
    output_difference: np.ndarray | None = None
    output_scale: np.ndarray | None = None
    steps: int | None = None

    @property
    def completeness_gap(self) -> float:
        """The mean |gap| relative to the output difference, or to the outputs' own size
        when that is larger (a difference near 0 cannot blow the ratio up); NaN when the
        method has no gap."""
        if self.gap is None:
            return float("nan")
        scale = float(np.mean(np.abs(self.output_difference)))
        if self.output_scale is not None:
            scale = max(scale, float(np.mean(self.output_scale)))
        return float(np.mean(np.abs(self.gap)) / scale) if scale > 0 else float("nan")


Compute = Callable[
    ["Case", "Subject", torch.Tensor, "torch.Tensor | None", "ExplainConfig", int], Attribution
]


#: captum's informational notes about its own hooks; not a problem with the user's model.
_CAPTUM_NOTES = (
    r"Input Tensor \d+ did not already require gradients",
    r"Setting forward, backward hooks and attributes on non-linear",
    r"Attempting to normalize by value approximately 0",
)


@contextlib.contextmanager
def quiet_library_notes() -> Iterator[None]:
    """Silence the libraries' informational warnings about their own mechanics."""
    with warnings.catch_warnings():
        for message in _CAPTUM_NOTES:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield


@contextlib.contextmanager
def numpy_seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for a block (libraries that draw from it), then restore it."""
    state = np.random.get_state()
    np.random.seed(int(seed) % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


def chunks(n: int, size: int) -> Iterator[slice]:
    """Consecutive slices of ``range(n)`` of at most ``size`` items."""
    size = max(1, int(size))
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def targets_of(classes: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return None if classes is None else classes.to(device)


def noise_scale(case: Case) -> float:
    """The scale inputs vary on: the input range (images), the numeric columns' median
    standard deviation (tabular)."""
    if case.space.modality == "image":
        lo, hi = case.target.input_range
        return hi - lo
    numeric = [
        cols[0]
        for cols, k in zip(case.space.groups, case.space.kinds, strict=True)
        if k == "numeric"
    ]
    if not numeric:
        return 1.0
    std = case.target.data[:, numeric].float().std(dim=0)
    return float(std.median()) or 1.0
