"""Embedding + bidirectional LSTM + linear head, for token-id sequences."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class BiLSTMClassifier(nn.Module):
    """Classify right-padded token-id sequences (padding id 0).

    Padding is packed away, so it never reaches the LSTM; the head reads the mean and
    the max of the LSTM's outputs over the real tokens. The embedding layer is
    ``self.embedding``, the layer text attributions (integrated gradients) hook.

    Parameters
    ----------
    vocab_size
        Number of token ids (``0`` is padding, ``1`` the unknown token).
    embed_dim, hidden_dim
        Sizes of the embeddings and of each LSTM direction.
    n_classes
        Number of output logits.
    dropout
        Dropout on embeddings and before the head.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        hidden_dim: int = 64,
        n_classes: int = 2,
        dropout: float = 0.4,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.embed_dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden_dim, n_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids.long()
        mask = ids != 0
        lengths = mask.sum(dim=1).clamp(min=1)
        emb = self.embed_dropout(self.embedding(ids))
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        valid = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]
        valid = valid.unsqueeze(-1).to(out.dtype)
        mean = (out * valid).sum(dim=1) / lengths[:, None].to(out.dtype)
        peak = out.masked_fill(valid == 0, torch.finfo(out.dtype).min).amax(dim=1)
        return self.head(self.dropout(torch.cat([mean, peak], dim=1)))
