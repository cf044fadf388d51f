"""A registered method of the simple public protocol, adapted to the internal one.

:func:`~deepaudit.audit.explain.registry.register_attribution` takes
``fn(forward, inputs, targets, baselines, seed)``; the explain family calls
``compute(case, subject, inputs, classes, config, seed)``. The adapter batches by the
target's memory budget, moves each batch to the model's device, passes the subject's
score as ``forward`` (so the randomisation check reaches the method through the copy
with re-initialised weights) and checks what comes back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from deepaudit.audit.explain.methods.base import Attribution, chunks, quiet_library_notes
from deepaudit.errors import ValidationError

WRONG_SHAPE_MESSAGE = (
    "The attribution method {name!r} returned {got} for inputs of shape {expected}: it "
    "must return one attribution per input element (text: one per token)."
)


def adapt(function: Callable) -> Callable:
    """The internal ``compute`` of a method written to the public protocol."""
    name = getattr(function, "__name__", repr(function))

    def compute(case, subject, x, classes, config, seed) -> Attribution:
        device = subject.device
        out = []
        for part in chunks(len(x), max(1, int(case.target.batch_size))):
            xs = x[part].to(device)
            baselines = case.baselines(xs)
            targets = None if classes is None else classes[part].to(device)
            if xs.is_floating_point():
                xs = xs.detach().clone()
            with quiet_library_notes():
                values = function(subject.score, xs, targets, baselines, int(seed))
            if isinstance(values, torch.Tensor):
                values = values.detach().float().cpu().numpy()
            values = np.asarray(values, dtype=np.float64)
            if values.shape != tuple(xs.shape):
                raise ValidationError(
                    WRONG_SHAPE_MESSAGE.format(
                        name=name, got=f"shape {values.shape}", expected=tuple(xs.shape)
                    )
                )
            out.append(values)
        return Attribution(np.concatenate(out) if out else np.zeros((0, *x.shape[1:])))

    return compute
