"""Is the robustness real? AutoAttack's warnings (Croce & Hein 2020) and Carlini et al.'s
checklist (2019), as findings.

A model can look robust because the attack failed, not because the model resists:
gradients that are zero or vanish, outputs that are probabilities (their cross-entropy
gradient saturates), robust accuracy that does not fall as ε grows, a query-only attack
that succeeds where the gradient attack did not, accuracy far above chance at an ε
large enough to reach any input. Each check returns a row of the ``sanity`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A gradient of the logit margin whose largest entry is below this is treated as zero.
#: The margin (not the cross-entropy, whose gradient vanishes on confidently classified
#: samples) has gradients of the size of the weights unless the model is locally flat.
VANISHING_GRADIENT = 1e-12


@dataclass
class Check:
    """One sanity check: its name, value, threshold, verdict and the sentence to show."""

    check: str
    value: float
    threshold: float
    passed: bool
    message: str
    table: str = "sanity"

    def row(self) -> dict:
        return {
            "check": self.check,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.message,
        }


def looks_like_probabilities(logits: np.ndarray) -> bool:
    """Rows that are non-negative and sum to one (softmax outputs), or a single output
    confined to [0, 1] (sigmoid outputs; a one-logit model's outputs arrive as [0, z])."""
    if len(logits) == 0:
        return False
    if logits.shape[1] == 2 and np.all(logits[:, 0] == 0):
        z = logits[:, 1]
        return bool(np.all((z >= 0) & (z <= 1)))
    rows_sum_to_one = np.allclose(logits.sum(axis=1), 1.0, atol=1e-3)
    return bool(np.all(logits >= 0) and np.all(logits <= 1) and rows_sum_to_one)


def logits_check(logits: np.ndarray) -> Check:
    probs = looks_like_probabilities(logits)
    return Check(
        "logits",
        float(probs),
        0.0,
        not probs,
        "The model's outputs look like probabilities, not logits: cross-entropy gradients "
        "through a softmax of probabilities vanish and attacks under-report its weakness."
        if probs
        else "The model's outputs are logits (not probabilities).",
    )


def zero_gradient_check(max_gradient: np.ndarray, limit: float) -> Check:
    n = len(max_gradient)
    zero = int(np.sum(max_gradient < VANISHING_GRADIENT))
    share = zero / n if n else 0.0
    return Check(
        "zero_gradients",
        share,
        limit,
        share <= limit,
        f"{zero} of {n} attacked samples have zero or vanishing input gradients "
        f"(largest entry below {VANISHING_GRADIENT:g}): gradient attacks cannot move them, "
        "a sign of gradient masking."
        if share > limit
        else f"Input gradients are non-zero at {n - zero} of {n} attacked samples.",
    )


def query_check(
    gain: float, low: float, broken: int, tried: int, limit: float, eps: float
) -> Check:
    """Fails when even the low end of the gain's interval exceeds the limit: one lucky
    query on a handful of samples is not evidence of masking."""
    return Check(
        "query_beats_gradient",
        gain,
        limit,
        low <= limit,
        f"A query-only attack (Square) broke {broken} of the {tried} samples PGD left standing "
        f"at ε={eps:.3g} (robust accuracy {gain:.1%} lower): the white-box attack is being "
        "fooled, a sign of gradient masking."
        if low > limit
        else f"A query-only attack (Square) broke {broken} of the {tried} samples PGD left "
        f"standing at ε={eps:.3g}: the gradient attack is not being fooled.",
    )


def monotonicity_check(
    broken: int, tried: int, limit: float, smaller: float, larger: float
) -> Check:
    share = broken / tried if tried else 0.0
    return Check(
        "accuracy_falls_with_epsilon",
        share,
        limit,
        share <= limit,
        f"{broken} of {tried} samples that survived ε={larger:.3g} break at the smaller "
        f"ε={smaller:.3g}: robust accuracy measured at each ε on its own would rise with ε, "
        "a sign of gradient masking or of a too-weak attack."
        if share > limit
        else f"{broken} of {tried} samples that survived ε={larger:.3g} break when attacked "
        f"again at ε={smaller:.3g}: robust accuracy falls with ε.",
    )


def large_epsilon_check(accuracy: float, chance: float, eps: float, limited: str = "") -> Check:
    return Check(
        "large_epsilon",
        accuracy,
        chance,
        accuracy <= chance,
        f"At ε={eps:.3g}, large enough to reach most inputs{limited}, accuracy is still "
        f"{accuracy:.1%}, above chance ({chance:.1%}): the attack fails where it cannot "
        "fail, a sign of gradient masking."
        if accuracy > chance
        else f"At a very large ε={eps:.3g}{limited} accuracy falls to {accuracy:.1%} "
        f"(chance {chance:.1%}).",
    )
