"""Attention maps and attention rollout (Abnar & Zuidema, 2020) for transformer models.

Each ``nn.MultiheadAttention`` of the model is asked for its weights (averaged over heads)
through hooks, so any model built on torch's attention layers works without changes.
Rollout mixes each layer's attention with the residual stream (``0.5·A + 0.5·I``, rows
normalised) and multiplies the layers; the row of the query token ([CLS] when the model
has one, else the mean over tokens) says how much each input token reaches the output.
It is unsigned and the same for every class: a map of where information flows, not an
attribution of the decision; the quality checks beside it say how faithful it is.

A model maps its attention tokens to input positions with ``token_inputs()``: one entry per
token, the input column it reads or ``None`` for a special token such as [CLS]. Without it,
a text model's tokens are taken to be its input positions (with [CLS] first when there is
one more token than positions).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from deepaudit.audit.explain.methods.base import Attribution, chunks

NO_ATTENTION = "the model has no torch.nn.MultiheadAttention layer"
NO_TOKEN_MAP = (
    "the model's attention tokens cannot be matched to its inputs: give it a "
    "token_inputs() method returning the input column of each token (None for [CLS])"
)


def attention_layers(module: nn.Module) -> list[nn.MultiheadAttention]:
    return [m for m in module.modules() if isinstance(m, nn.MultiheadAttention)]


def has_attention(case) -> str | None:
    """``None`` when the model has attention layers whose tokens map to its inputs."""
    module = case.subject.module
    if not attention_layers(module):
        return NO_ATTENTION
    if hasattr(module, "token_inputs") or case.space.modality == "text":
        return None
    return NO_TOKEN_MAP


@contextlib.contextmanager
def captured_attention(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Collect every attention layer's head-averaged weights (N×T×T) during a forward."""
    weights: list[torch.Tensor] = []

    def ask_for_weights(_module, args, kwargs):
        kwargs["need_weights"] = True
        kwargs["average_attn_weights"] = True
        return args, kwargs

    def keep(_module, _args, output):
        if isinstance(output, tuple) and output[1] is not None:
            weights.append(output[1].detach().float())

    handles = []
    for layer in attention_layers(module):
        handles.append(layer.register_forward_pre_hook(ask_for_weights, with_kwargs=True))
        handles.append(layer.register_forward_hook(keep))
    try:
        yield weights
    finally:
        for handle in handles:
            handle.remove()


def rollout_matrix(weights: list[torch.Tensor]) -> torch.Tensor:
    """Attention rollout over layers: ``R = Â_L ⋯ Â_1`` with ``Â = norm(0.5·A + 0.5·I)``."""
    n, t, _ = weights[0].shape
    eye = torch.eye(t, device=weights[0].device).expand(n, t, t)
    rolled = eye
    for a in weights:
        mixed = 0.5 * a + 0.5 * eye
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        rolled = mixed @ rolled
    return rolled


def token_map(module: nn.Module, n_tokens: int, input_width: int) -> list[int | None]:
    if hasattr(module, "token_inputs"):
        return list(module.token_inputs())
    if n_tokens == input_width:
        return list(range(input_width))
    if n_tokens == input_width + 1:
        return [None, *range(input_width)]
    raise ValueError(NO_TOKEN_MAP)


def attention_rollout(case, subject, x, classes, config, seed) -> Attribution:
    """Rollout scores of each input position, in the shape of the inputs."""
    module = subject.module
    out = []
    for part in chunks(len(x), max(1, case.target.batch_size or 256)):
        xs = x[part].to(subject.device)
        # With gradients enabled torch's encoder layers skip their fused fast path, which
        # would not call the attention modules (and so not the hooks).
        with torch.enable_grad(), captured_attention(module) as weights:
            module(xs)
        if not weights:
            raise ValueError(NO_ATTENTION)
        rolled = rollout_matrix(weights)
        tokens = token_map(module, rolled.shape[-1], xs.shape[1])
        query = tokens.index(None) if None in tokens else None
        flow = rolled[:, query, :] if query is not None else rolled.mean(dim=1)
        values = torch.zeros(xs.shape[:2], device=flow.device)
        for position, column in enumerate(tokens):
            if column is not None:
                values[:, column] += flow[:, position]
        out.append(values.cpu().numpy().astype(np.float64))
    return Attribution(np.concatenate(out))
