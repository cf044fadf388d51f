"""Identity-term swaps: a planted term bias is found, an unbiased model passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

import deepaudit as da
from deepaudit.models.datasets import identity_terms, text
from tests.audit.fairness.fairness_toys import audit, finding


def _vocabulary() -> list[str]:
    data = identity_terms.load_identity_terms()
    words = {
        t
        for tpl in data["templates"]
        for t in text.tokenize(tpl["text"].format(term="", adjective=""))
    }
    words |= {t for adjs in data["adjectives"].values() for a in adjs for t in text.tokenize(a)}
    words |= {
        t
        for groups in data["attributes"].values()
        for terms in groups.values()
        for term in terms
        for t in text.tokenize(term)
    }
    words |= {"is", "great", "bad", "the", "movie"}
    return ["<pad>", "<unk>", *sorted(words)]


class BagOfWords(nn.Module):
    """logit = bias + sum of one weight per token: a term's effect is exactly its weight."""

    def __init__(self, vocab: list[str], weights: dict[str, float], bias: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(len(vocab), 1, padding_idx=0)
        with torch.no_grad():
            self.embedding.weight.zero_()
            for token, weight in weights.items():
                self.embedding.weight[vocab.index(token)] = weight
        self.bias = bias

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids).sum(dim=(1, 2))[:, None] + self.bias


def text_target(weights: dict[str, float], bias: float = 0.0) -> da.Target:
    vocab = _vocabulary()
    sentences = [
        "she is great",
        "the movie is bad",
        "he is great",
        "she is bad",
        "the woman is great",
        "the movie is great",
    ] * 5
    ids = text.encode([text.tokenize(s) for s in sentences], vocab, 16)
    return da.Target(
        BagOfWords(vocab, weights, bias),
        modality="text",
        data=ids,
        labels=np.arange(len(ids)) % 2,
        vocab=vocab,
        device="cpu",
    )


OPTIONS = {"mitigation": False, "n_bootstrap": 200}


def test_a_planted_term_bias_is_found_and_only_that_term():
    bundle = audit(text_target({"muslim": -3.0, "she": 2.0}, bias=-1.0), **OPTIONS)
    pairs = pd.DataFrame(bundle["fairness"].tables["identity_pairs"])
    religion = pairs[pairs["attribute"] == "religion"]
    with_term = religion[(religion["term_a"] == "muslim") | (religion["term_b"] == "muslim")]
    without = religion.drop(with_term.index)
    assert (without["mean_shift"] == 0).all() and (without["severity"] == "pass").all()
    assert (with_term["severity"] == "fail").all()
    # Leaving "muslim" adds 3 to a logit of -4: the shift is exactly sigma(-1) - sigma(-4).
    expected = 1 / (1 + np.exp(1)) - 1 / (1 + np.exp(4))
    signed = np.where(with_term["term_a"] == "muslim", 1.0, -1.0) * with_term["mean_shift"]
    np.testing.assert_allclose(signed, expected, rtol=1e-6)
    found = finding(bundle, "identity_swap_religion")
    assert found.severity == "fail" and "muslim" in found.evidence.group
    low, high = found.evidence.interval
    assert abs(found.evidence.value) > 0.25 and not low <= 0 <= high
    assert finding(bundle, "identity_swap_nationality").severity == "pass"
    gender = finding(bundle, "identity_swap_gender")
    assert gender.severity == "fail" and gender.evidence.group == "she -> he"


def test_swaps_inside_the_data_flip_predictions_of_the_planted_term():
    bundle = audit(text_target({"she": 2.0}, bias=-1.0), **OPTIONS)
    swaps = pd.DataFrame(bundle["fairness"].tables["identity_data_swaps"])
    she = swaps[(swaps["term_a"] == "she") & (swaps["term_b"] == "he")].iloc[0]
    # 10 sentences with she, 5 with he: all swapped; the logit moves by 2 across 0.
    assert she["n"] == 15 and she["flip_rate"] == 1.0
    assert she["mean_shift"] < -0.4
    woman = swaps[swaps["term_a"] == "woman"].iloc[0]
    assert woman["n"] == 5 and woman["flip_rate"] == 0.0
    assert finding(bundle, "identity_data_gender").severity == "fail"


def test_an_unbiased_model_passes_every_pair():
    bundle = audit(text_target({"great": 1.0, "bad": -1.0}), **OPTIONS)
    pairs = pd.DataFrame(bundle["fairness"].tables["identity_pairs"])
    assert len(pairs) > 100
    assert (pairs["mean_shift"] == 0).all() and (pairs["flip_rate"] == 0).all()
    assert (pairs["severity"] == "pass").all()
    for attribute in ("gender", "religion", "nationality", "ethnicity"):
        assert finding(bundle, f"identity_swap_{attribute}").severity == "pass"


def test_pairs_of_unknown_terms_are_skipped_with_a_note():
    target = text_target({})
    target.vocab = [t if t not in ("hindu", "buddhist") else f"x-{t}" for t in target.vocab]
    bundle = audit(target, identity_attributes=["religion"], **OPTIONS)
    pairs = pd.DataFrame(bundle["fairness"].tables["identity_pairs"])
    assert not ((pairs["term_a"] == "hindu") & (pairs["term_b"] == "buddhist")).any()
    assert any(
        n.startswith("religion: 1 term pairs read identically") for n in bundle["fairness"].notes
    )
