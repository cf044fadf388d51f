"""Word substitution: neighbours from the embedding, the bound on changed words."""

from __future__ import annotations

import torch

from deepaudit.audit.robustness.space import embedding_layer
from deepaudit.audit.robustness.words import nearest_neighbours, substitution_attack, word_like


def test_nearest_neighbours_by_cosine_exclude_the_token_itself_and_disallowed_ones():
    weight = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    allowed = torch.tensor([False, True, True, True, False])
    ids, ok = nearest_neighbours(weight, torch.tensor([1, 3]), allowed, k=2, min_similarity=0.5)
    assert ids[0].tolist() == [2, 3] and ok[0].tolist() == [True, False]
    assert ids[1, 0].item() == 2 and not ok[1].any()  # cosine(e3, e2) ≈ 0.11


def test_word_like_tokens():
    assert word_like(["<pad>", "good", "don't", ".", "x-ray", "[UNK]", "42"]).tolist() == [
        False, True, True, False, True, False, False,
    ]  # fmt: skip


def test_substitution_changes_at_most_the_allowed_words_and_only_to_neighbours(text_target):
    ids = text_target.data
    labels = torch.as_tensor(text_target.predict())
    layer = embedding_layer(text_target.model)
    out = substitution_attack(
        text_target, layer, ids, labels, max_changed=2, n_neighbours=5, n_candidates=4,
        min_similarity=-1.0,
    )  # fmt: skip
    changed = (out.ids != ids).sum(1)
    assert torch.all(changed <= 2)
    assert torch.all((out.ids == 0) == (ids == 0))  # padding untouched, lengths kept
    assert torch.all(out.changed[out.success] == changed[out.success])
    assert out.success.any()
    flipped = text_target.predict(out.ids[out.success])
    assert (flipped != labels[out.success].numpy()).all()
    weight = layer.weight.detach()
    words = torch.from_numpy(word_like(text_target.vocab))
    assert not words[0] and not words[1]  # never <pad> or <unk>
    for i, j in (out.ids != ids).nonzero().tolist():
        old, new = ids[i, j].item(), out.ids[i, j].item()
        near, _ = nearest_neighbours(weight, torch.tensor([old]), words, 5, -1)
        assert new in near[0].tolist()
