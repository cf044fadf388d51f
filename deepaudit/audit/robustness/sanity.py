"""Is the robustness real? AutoAttack's warnings (Croce & Hein 2020) and Carlini et al.'s
checklist (2019), as findings.

A model can look robust because the attack failed, not because the model resists:
gradients that are zero or vanish, outputs that are probabilities (their cross-entropy
gradient saturates), robust accuracy that does not fall as ε grows, a query-only attack
that succeeds where the gradient attack did not, accuracy far above chance at an ε
large enough to reach any input. Each check returns a row of the ``sanity`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: A gradient of the logit margin whose largest entry is below this is treated as zero.
#: The margin (not the cross-entropy, whose gradient vanishes on confidently classified
#: samples) has gradients of the size of the weights unless the model is locally flat.
VANISHING_GRADIENT = 1e-12


@dataclass
class Check:
    """One sanity check: its name, value, threshold, verdict and the sentence to show.

    ``kind`` names the builder in :data:`CHECKS` and ``inputs`` its arguments, and
    ``limit`` the config field its threshold comes from (``None``: a fixed threshold),
    so a saved row rebuilds the check under another limit (:func:`from_row`).
    """

    check: str
    value: float
    threshold: float
    passed: bool
    message: str
    kind: str = ""
    inputs: dict = field(default_factory=dict)
    limit: str | None = None

    def row(self) -> dict:
        return {
            "check": self.check,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.message,
            "kind": self.kind,
            "inputs": dict(self.inputs),
            "limit": self.limit,
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


def logits_check(probabilities: bool) -> Check:
    return Check(
        "logits",
        float(probabilities),
        0.0,
        not probabilities,
        "The model's outputs look like probabilities, not logits: cross-entropy gradients "
        "through a softmax of probabilities vanish and attacks under-report its weakness."
        if probabilities
        else "The model's outputs are logits (not probabilities).",
        "logits",
        {"probabilities": bool(probabilities)},
    )


def zero_gradient_count(max_gradient: np.ndarray) -> tuple[int, int]:
    """Attacked samples whose largest input-gradient entry vanishes, and all of them."""
    return int(np.sum(max_gradient < VANISHING_GRADIENT)), len(max_gradient)


def zero_gradient_check(zero: int, n: int, limit: float) -> Check:
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
        "zero_gradients",
        {"zero": int(zero), "n": int(n)},
        "max_zero_gradient_fraction",
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
        "query_beats_gradient",
        {"gain": gain, "low": low, "broken": int(broken), "tried": int(tried), "eps": eps},
        "max_query_gain",
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
        "accuracy_falls_with_epsilon",
        {"broken": int(broken), "tried": int(tried), "smaller": smaller, "larger": larger},
        "max_non_monotone_fraction",
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
        "large_epsilon",
        {"accuracy": accuracy, "chance": chance, "eps": eps, "limited": limited},
    )


#: Builders of each kind of check, by name (:func:`from_row` calls them).
CHECKS = {
    "logits": logits_check,
    "zero_gradients": zero_gradient_check,
    "query_beats_gradient": query_check,
    "accuracy_falls_with_epsilon": monotonicity_check,
    "large_epsilon": large_epsilon_check,
}


def from_row(row: dict, config) -> Check:
    """The check a saved sanity row records, rebuilt under the limits of ``config``."""
    inputs = dict(row["inputs"])
    if row.get("limit"):
        inputs["limit"] = float(getattr(config, row["limit"]))
    check = CHECKS[row["kind"]](**inputs)
    check.check = row["check"]  # a suffixed name (autoencoders: one per adversary)
    return check
