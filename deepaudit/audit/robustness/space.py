"""Attack spaces: where an attack may move each kind of input, in units that make ε mean
the same thing on every model.

An attack moves ``η``; the model sees ``x = x0 + scale · η``. ``scale`` is one unit of ε
for each coordinate (the input range for pixels, each feature's valid range for tabular
columns, the typical embedding size for text) and 0 where nothing may change
(categorical and immutable features, padding). ``η`` also lies in a box ``[lower,
upper]`` that keeps ``x`` inside the valid input range; the box always contains 0, so
an input that starts outside its nominal range is never moved by the clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from deepaudit.audit.target import Target

#: ``forward(x, rows)``: the model's output on inputs ``x`` of the samples ``rows``.
Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class AttackSpace:
    """The clean points, the unit and box of each coordinate, and the model seen from η.

    ``scale`` and the bounds are either per sample (first dimension N) or shared
    (first dimension 1). ``unit`` says in words what one unit of ε is.
    """

    x0: torch.Tensor
    scale: torch.Tensor
    lower: torch.Tensor
    upper: torch.Tensor
    model: Forward
    unit: str

    @property
    def n(self) -> int:
        return int(self.x0.shape[0])

    def _take(self, t: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return t[rows] if t.shape[0] == self.n and self.n > 1 else t

    def bounds(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The box of η for ``rows``, expanded to their full shape."""
        shape = (len(rows), *self.x0.shape[1:])
        return (
            self._take(self.lower, rows).expand(shape),
            self._take(self.upper, rows).expand(shape),
        )

    def free(self, rows: torch.Tensor) -> torch.Tensor:
        """1.0 where a coordinate may move, 0.0 where it is frozen."""
        shape = (len(rows), *self.x0.shape[1:])
        return (self._take(self.scale, rows) > 0).to(self.x0.dtype).expand(shape)

    def inputs(self, eta: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The model inputs ``x0 + scale · η`` of ``rows``."""
        return self.x0[rows] + self._take(self.scale, rows) * eta

    def forward(self, eta: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return self.model(self.inputs(eta, rows), rows)

    def zeros(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.zeros((len(rows), *self.x0.shape[1:]), device=self.x0.device)


def _box(x0: torch.Tensor, scale: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor):
    """η bounds keeping ``x0 + scale·η`` in [lo, hi], widened to contain η = 0."""
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    lower = torch.where(scale > 0, (lo - x0) / safe, torch.zeros_like(x0)).clamp(max=0)
    upper = torch.where(scale > 0, (hi - x0) / safe, torch.zeros_like(x0)).clamp(min=0)
    return lower, upper


def image_space(x0: torch.Tensor, input_range: tuple[float, float], model: Forward) -> AttackSpace:
    """Pixels, in units of the input range, kept inside it."""
    lo, hi = input_range
    scale = torch.full((1,) * x0.ndim, hi - lo, device=x0.device)
    lower, upper = _box(x0, scale, torch.full_like(x0, lo), torch.full_like(x0, hi))
    return AttackSpace(x0, scale, lower, upper, model, f"the input range [{lo:g}, {hi:g}]")


def mutable_columns(target: Target, immutable: Sequence[str] = ()) -> list[int]:
    """Tabular columns an attack may change: continuous features that are not immutable
    (named in ``immutable`` or named like a sensitive attribute) and whose range is not
    a single point."""
    frozen = set(immutable) | set(target.sensitive_names)
    columns = []
    for feature, cols in target.feature_groups.items():
        if feature in target.categorical or feature in frozen or len(cols) != 1:
            continue
        lo, hi = target.feature_ranges[target.feature_names[cols[0]]]
        if hi > lo:
            columns.append(cols[0])
    return columns


def tabular_space(
    target: Target, x0: torch.Tensor, columns: Sequence[int], model: Forward
) -> AttackSpace:
    """The mutable continuous ``columns``, each in units of its valid range, kept inside
    it; every other column (one-hot and integer-coded categories included) is frozen."""
    width = x0.shape[1]
    lo = torch.tensor([target.feature_ranges[f][0] for f in target.feature_names], device=x0.device)
    hi = torch.tensor([target.feature_ranges[f][1] for f in target.feature_names], device=x0.device)
    scale = torch.zeros(1, width, device=x0.device)
    index = torch.as_tensor(list(columns), dtype=torch.long, device=x0.device)
    scale[0, index] = (hi - lo)[index]
    lower, upper = _box(x0, scale, lo.expand_as(x0), hi.expand_as(x0))
    names = ", ".join(target.feature_names[c] for c in columns)
    return AttackSpace(x0, scale, lower, upper, model, f"each feature's valid range ({names})")


def embedding_layer(model: nn.Module, name: str | None = None) -> nn.Embedding | None:
    """The embedding a text model looks its tokens up in: ``name`` when given (a dotted
    attribute path), else the model's only ``nn.Embedding``."""
    if name:
        module: nn.Module | None = model
        for part in name.split("."):
            module = getattr(module, part, None)
        return module if isinstance(module, nn.Embedding) else None
    found = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    return found[0] if len(found) == 1 else None


def embedding_forward(
    target: Target, layer: nn.Embedding, ids: torch.Tensor
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``forward(embeddings, rows)``: the model's logits when the embedding layer returns
    ``embeddings`` for the token ids of ``rows`` (the rest of the model is untouched)."""

    def forward(emb: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        handle = layer.register_forward_hook(lambda module, args, output: emb)
        try:
            return target.score_tensor(ids[rows])
        finally:
            handle.remove()

    return forward


def text_space(target: Target, layer: nn.Embedding, ids: torch.Tensor, norm: str) -> AttackSpace:
    """Token embeddings of real tokens (padding frozen), unbounded.

    One unit is the typical size of the vocabulary's embeddings: the root-mean-square
    embedding norm ``r`` for L2 (ε = 1 moves the text by one typical word vector), and
    ``r / sqrt(dim)``, the typical coordinate, for L∞.
    """
    weight = layer.weight.detach()
    typical = float(weight[1:].norm(dim=1).pow(2).mean().sqrt()) if len(weight) > 1 else 1.0
    dim = weight.shape[1]
    unit = typical if norm == "L2" else typical / math.sqrt(dim)
    with torch.no_grad():
        x0 = layer(ids).detach().float()
    scale = (ids != 0).to(x0.dtype).unsqueeze(-1) * unit
    inf = torch.full((1, 1, 1), math.inf, device=x0.device)
    what = "vector norm" if norm == "L2" else "coordinate"
    return AttackSpace(
        x0,
        scale,
        -inf,
        inf,
        embedding_forward(target, layer, ids),
        f"the typical embedding {what} ({unit:.3g})",
    )


def latent_space(z0: torch.Tensor, model: Forward) -> AttackSpace:
    """Latent codes of a generator, unbounded, in their own units."""
    scale = torch.ones((1,) * z0.ndim, device=z0.device)
    inf = torch.full((1,) * z0.ndim, math.inf, device=z0.device)
    return AttackSpace(z0, scale, -inf, inf, model, "latent units")
