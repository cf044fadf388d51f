"""A model probed on one small batch of its own data before an audit does any work.

Data that does not fit the model (the wrong channel count or width), a model returning
a dict or probabilities, more outputs than class
names, labels no output can mean, NaN logits, pixels on another scale than the declared
input range: each would fail deep inside a family, or pass silently and mislead. Each
is refused here with a deepaudit error naming the argument, what was expected, what
came, and how to fix it.
"""

from __future__ import annotations

import numpy as np
import torch

from deepaudit.audit.target import _OWNER, Target
from deepaudit.errors import described, parameter_error

#: Rows of the evaluation data the model is probed on.
PROBE_ROWS = 8


def probe_target(target: Target) -> None:
    """Raise a ValidationError when the target's model and data do not fit together."""
    if target.data is None or target.kind == "generator":
        return
    data = target.data  # token ids were checked against the vocabulary when it was built
    if target.modality == "image" and target.input_range is not None:
        lo, hi = (float(v) for v in target.input_range)
        d_lo, d_hi = float(data.min()), float(data.max())
        span = hi - lo
        if d_lo < lo - 0.05 * span or d_hi > hi + 0.05 * span:
            raise parameter_error(
                "data",
                _OWNER,
                f"values within input_range [{lo:g}, {hi:g}] (scale the data, e.g. pixels / "
                f"255, or declare input_range=({d_lo:g}, {d_hi:g}))",
                described(f"values over [{d_lo:g}, {d_hi:g}]"),
            )
    batch = data[: min(PROBE_ROWS, len(data))].to(target.device)
    try:
        with torch.no_grad():
            out = target.model(batch)
    except Exception as exc:
        raise parameter_error(
            "model",
            _OWNER,
            "a model that accepts the Target's data (check the channels, the width or the "
            "token ids against what the model was built for)",
            described(
                f"{type(exc).__name__} on a batch of shape {tuple(batch.shape)} "
                f"({batch.dtype}): {str(exc).splitlines()[0][:200]}"
            ),
        ) from exc
    if not isinstance(out, torch.Tensor):
        raise parameter_error(
            "model",
            _OWNER,
            "a model returning a tensor (wrap one that returns a dict or an output object, "
            "e.g. lambda x: model(x)['logits'])",
            described(f"a model returning a {type(out).__name__}"),
        )
    if not torch.isfinite(out).all():
        raise parameter_error(
            "model",
            _OWNER,
            "finite outputs",
            described(f"NaN or infinite outputs on {len(batch)} rows of the data"),
        )
    if target.kind == "autoencoder":
        if tuple(out.shape) != tuple(batch.shape):
            raise parameter_error(
                "model",
                _OWNER,
                f"an autoencoder returning its input's shape {tuple(batch.shape)}",
                described(f"outputs of shape {tuple(out.shape)}"),
            )
        return
    _check_classifier_outputs(target, out)


def _check_classifier_outputs(target: Target, out: torch.Tensor) -> None:
    if out.ndim > 2 or out.shape[0] != min(PROBE_ROWS, target.n_samples):
        raise parameter_error(
            "model",
            _OWNER,
            "a classifier returning one row of logits per sample (N, C), or one logit (N,)",
            described(f"outputs of shape {tuple(out.shape)}"),
        )
    n_outputs = 2 if out.ndim == 1 or out.shape[1] == 1 else int(out.shape[1])
    if target.class_names is not None and n_outputs != len(target.class_names):
        raise parameter_error(
            "class_names",
            _OWNER,
            f"one name per model output ({n_outputs})",
            described(f"{len(target.class_names)} names"),
        )
    if target.labels is not None and target.profile is None:
        low, high = int(np.min(target.labels)), int(np.max(target.labels))
        if low < 0 or high >= n_outputs:
            raise parameter_error(
                "labels",
                _OWNER,
                f"class indices in [0, {n_outputs - 1}] (the model has {n_outputs} outputs)",
                described(f"labels ranging over [{low}, {high}]"),
            )
    if out.ndim == 2 and out.shape[1] >= 2:
        rows = out.double()
        if bool((rows >= 0).all() and (rows <= 1).all()) and bool(
            torch.allclose(rows.sum(dim=1), torch.ones(len(rows), dtype=rows.dtype), atol=1e-4)
        ):
            raise parameter_error(
                "model",
                _OWNER,
                "a classifier returning logits (deepaudit applies the softmax itself; "
                "return torch.log of the probabilities instead)",
                described("outputs that are probabilities (in [0, 1], each row summing to 1)"),
            )
