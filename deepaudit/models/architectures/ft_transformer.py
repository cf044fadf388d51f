"""An FT-Transformer (Gorishniy et al., 2021) for tabular data: a token per feature.

Numeric features are embedded linearly (``x * w + b``, a vector per feature),
categorical ones by a lookup; a learned [CLS] token is prepended, a transformer
encoder mixes the tokens and a head reads the [CLS] token.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class FTTransformer(nn.Module):
    """FT-Transformer over one float tensor ``N×F`` (the column order of the data).

    Categorical columns hold integer codes stored as floats: the model rounds them,
    clamps them into ``[0, cardinality - 1]`` and looks them up, so one float tensor
    serves every audit (gradients simply do not flow into the codes).

    Parameters
    ----------
    cardinalities
        One entry per input column: ``0`` for a numeric column, the number of
        categories for a categorical one.
    d_token, n_layers, n_heads, ffn_factor, dropout
        Size of the tokens and of the transformer encoder.
    n_classes
        Number of output logits.
    """

    def __init__(
        self,
        cardinalities: Sequence[int],
        d_token: int = 32,
        n_layers: int = 2,
        n_heads: int = 4,
        ffn_factor: int = 2,
        dropout: float = 0.1,
        n_classes: int = 2,
    ) -> None:
        super().__init__()
        cards = [int(c) for c in cardinalities]
        num_idx = [i for i, c in enumerate(cards) if c == 0]
        cat_idx = [i for i, c in enumerate(cards) if c > 0]
        cat_cards = [cards[i] for i in cat_idx]
        offsets = [0]
        for c in cat_cards[:-1]:
            offsets.append(offsets[-1] + c)
        self.register_buffer("num_idx", torch.tensor(num_idx, dtype=torch.long), persistent=False)
        self.register_buffer("cat_idx", torch.tensor(cat_idx, dtype=torch.long), persistent=False)
        self.register_buffer(
            "cat_max", torch.tensor([c - 1 for c in cat_cards], dtype=torch.long), persistent=False
        )
        self.register_buffer(
            "cat_offsets", torch.tensor(offsets, dtype=torch.long), persistent=False
        )
        self.num_weight = nn.Parameter(torch.randn(len(num_idx), d_token) / d_token**0.5)
        self.num_bias = nn.Parameter(torch.zeros(len(num_idx), d_token))
        self.cat_embedding = nn.Embedding(max(sum(cat_cards), 1), d_token)
        nn.init.normal_(self.cat_embedding.weight, std=d_token**-0.5)
        self.cat_bias = nn.Parameter(torch.zeros(len(cat_idx), d_token))
        self.cls = nn.Parameter(torch.randn(1, 1, d_token) / d_token**0.5)
        layer = nn.TransformerEncoderLayer(
            d_token,
            n_heads,
            dim_feedforward=ffn_factor * d_token,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_token)
        self.activation = nn.ReLU()
        self.head = nn.Linear(d_token, n_classes)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Feature tokens ``N×(1+F)×d`` ([CLS] first), before the encoder."""
        x = x.float()
        parts = [self.cls.expand(x.shape[0], -1, -1)]
        if self.num_idx.numel():
            numeric = x[:, self.num_idx]
            parts.append(numeric.unsqueeze(-1) * self.num_weight + self.num_bias)
        if self.cat_idx.numel():
            codes = x[:, self.cat_idx].detach().round().long()
            codes = torch.minimum(codes.clamp(min=0), self.cat_max)
            parts.append(self.cat_embedding(codes + self.cat_offsets) + self.cat_bias)
        return torch.cat(parts, dim=1)

    def token_inputs(self) -> list[int | None]:
        """The input column each token reads ([CLS] reads none), in token order."""
        return [None, *self.num_idx.tolist(), *self.cat_idx.tolist()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.tokens(x))
        return self.head(self.activation(self.norm(h[:, 0])))
