"""Word substitution: replace a few words by their nearest neighbours in the model's own
embedding, greedily, until the label flips (in the spirit of HotFlip, Ebrahimi et al.
2018, and of Alzantot et al. 2018, without a language model).

Each round takes one gradient of the loss with respect to the token embeddings, ranks
every (position, neighbour) swap by its first-order gain ``(e_new - e_old) · grad``,
scores the best few swaps exactly with forward passes and keeps the best. A sample
changes at most ``max_changed`` words, each at most once.

The neighbours come from the classifier's embedding, trained for the task: they are
near for the model, not necessarily synonyms for a reader; the saved examples show them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepaudit.audit.robustness.objectives import margin
from deepaudit.audit.robustness.space import embedding_forward
from deepaudit.audit.target import Target

_WORD = re.compile(r"[a-z][a-z0-9'\-]*")


def word_like(vocab: Sequence[str]) -> np.ndarray:
    """Tokens that are words (a letter, then letters, digits, apostrophes or hyphens), not
    punctuation, numbers or markers such as ``<pad>``."""
    return np.array([bool(_WORD.fullmatch(t.lower())) for t in vocab])


def continuation_pieces(vocab: Sequence[str]) -> np.ndarray:
    """Sub-word pieces that continue the word before them (WordPiece's ``##ing``)."""
    return np.array([t.startswith("##") and len(t) > 2 for t in vocab])


def whole_words(ids: torch.Tensor, continues: torch.Tensor) -> torch.Tensor:
    """Positions that hold a whole word: not followed by a piece that continues it (a
    tokenizer's word split in pieces is substituted whole or not at all)."""
    following = torch.zeros_like(ids, dtype=torch.bool)
    following[:, :-1] = continues[ids[:, 1:]]
    return ~following


def nearest_neighbours(
    weight: torch.Tensor,
    tokens: torch.Tensor,
    allowed: torch.Tensor,
    k: int,
    min_similarity: float,
    chunk: int = 512,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest ``allowed`` tokens by cosine similarity to each of ``tokens``.

    Returns their ids (``len(tokens)×k``) and whether each is a valid substitute (allowed,
    not the token itself, similarity at least ``min_similarity``).
    """
    unit = F.normalize(weight.float(), dim=1)
    ids, valid = [], []
    k = min(k, len(weight) - 1)
    for start in range(0, len(tokens), chunk):
        part = tokens[start : start + chunk]
        sim = unit[part] @ unit.T
        sim[:, ~allowed] = -2.0
        sim[torch.arange(len(part)), part] = -2.0
        top = sim.topk(k, dim=1)
        ids.append(top.indices)
        valid.append(top.values >= min_similarity)
    return torch.cat(ids), torch.cat(valid)


@dataclass
class SubstitutionResult:
    """Per sample: the adversarial ids, how many words changed (0 when the attack failed),
    and whether the label flipped."""

    ids: torch.Tensor
    changed: torch.Tensor
    success: torch.Tensor


def substitution_attack(
    target: Target,
    layer: nn.Embedding,
    ids: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_changed: int,
    n_neighbours: int,
    n_candidates: int,
    min_similarity: float,
) -> SubstitutionResult:
    """Greedy nearest-neighbour word substitution on the token ids ``ids`` (N×L)."""
    device = ids.device
    n = len(ids)
    words = torch.from_numpy(word_like(target.vocab)).to(device)
    words[0] = False
    present = torch.unique(ids)
    table_ids, table_ok = nearest_neighbours(
        layer.weight.detach(), present, words, n_neighbours, min_similarity
    )
    lookup = torch.full((len(target.vocab),), -1, dtype=torch.long, device=device)
    lookup[present] = torch.arange(len(present), device=device)
    source_ok = words.clone()
    continues = torch.from_numpy(continuation_pieces(target.vocab)).to(device)
    current = ids.clone()
    changed = torch.zeros(n, dtype=torch.long, device=device)
    touched = torch.zeros_like(ids, dtype=torch.bool)
    success = torch.zeros(n, dtype=torch.bool, device=device)
    weight = layer.weight.detach()
    all_rows = torch.arange(n, device=device)
    for _ in range(max_changed):
        active = (~success).nonzero()[:, 0]
        if len(active) == 0:
            break
        seq = current[active]
        emb = layer(seq).detach().float().requires_grad_(True)
        forward = embedding_forward(target, layer, seq)
        with torch.enable_grad():
            logits = forward(emb, torch.arange(len(active), device=device))
            loss = F.cross_entropy(logits, labels[active], reduction="none")
            (grad,) = torch.autograd.grad(loss.sum(), emb)
        slot = lookup[seq]  # m×L row of the neighbour table (-1: none)
        cand = table_ids[slot.clamp(min=0)]  # m×L×k
        ok = table_ok[slot.clamp(min=0)] & (slot >= 0)[..., None]
        ok &= (source_ok[seq] & ~touched[active] & whole_words(seq, continues))[..., None]
        gain = torch.einsum("mlkd,mld->mlk", weight[cand].float() - emb.detach()[:, :, None], grad)
        gain = gain.masked_fill(~ok, float("-inf"))
        m, length, k = gain.shape
        top = gain.flatten(1).topk(min(n_candidates, length * k), dim=1)
        feasible = torch.isfinite(top.values)
        if not feasible.any():
            break
        position = top.indices // k
        replacement = cand.flatten(1).gather(1, top.indices)
        trials = seq[:, None, :].repeat(1, top.indices.shape[1], 1)
        trials.scatter_(2, position[..., None], replacement[..., None])
        flat = trials.flatten(0, 1)
        scores = []
        with torch.no_grad():
            for start in range(0, len(flat), target.batch_size):
                chunk = flat[start : start + target.batch_size]
                owner = active.repeat_interleave(top.indices.shape[1])[start : start + len(chunk)]
                scores.append(margin(target.score_tensor(chunk), labels[owner]))
        score = torch.cat(scores).reshape(m, -1).masked_fill(~feasible, float("-inf"))
        best = score.argmax(dim=1)
        movable = feasible.any(dim=1)
        pick = all_rows[: len(active)]
        chosen = trials[pick, best]
        current[active[movable]] = chosen[movable]
        touched[active[movable], position[pick, best][movable]] = True
        changed[active[movable]] += 1
        success[active[movable]] = score[pick, best][movable] > 0
    changed = torch.where(success, changed, torch.zeros_like(changed))
    return SubstitutionResult(current, changed, success)
