"""One grading rule for every family: an interval against a limit gives fail (wholly
beyond), pass (wholly within) or inconclusive (straddling), and the number printed
never reads as the other side of the limit."""

from __future__ import annotations

import math

import pytest

from deepaudit.audit.explain import ExplainConfig
from deepaudit.audit.explain.grade import sanity_verdict
from deepaudit.audit.fairness import FairnessConfig
from deepaudit.audit.fairness.grade import decide_tests
from deepaudit.audit.generative.grade import grade as generative_grade
from deepaudit.audit.robustness.grade import graded_finding
from deepaudit.grading import shown, verdict
from deepaudit.results import Evidence

#: (value, low, high, limit, higher_is_worse) -> verdict
CASES = [
    ((0.3, 0.2, 0.4, 0.1, True), "fail"),
    ((0.3, 0.05, 0.4, 0.1, True), "inconclusive"),
    ((0.05, 0.0, 0.2, 0.1, True), "inconclusive"),  # the estimate passes, its interval not
    ((0.05, 0.0, 0.09, 0.1, True), "pass"),
    ((0.3, 0.2, 0.4, 0.5, False), "fail"),
    ((0.51, 0.441, 0.578, 0.5, False), "inconclusive"),  # robust accuracy 51 % vs 50 % floor
    ((0.7, 0.6, 0.8, 0.5, False), "pass"),
    ((math.nan, 0.0, 1.0, 0.5, False), "inconclusive"),
    ((0.3, math.nan, math.nan, 0.5, False), "inconclusive"),  # no interval to read
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_the_rule(args, expected):
    value, low, high, limit, worse = args
    assert verdict(value, low, high, limit, higher_is_worse=worse) == expected


@pytest.mark.parametrize(("args", "expected"), CASES[:7])
def test_every_family_grades_an_interval_by_the_same_rule(args, expected):
    value, low, high, limit, worse = args
    robustness = graded_finding(
        "robust_accuracy",
        "",
        Evidence(metric="m", value=value, interval=(low, high), threshold=limit),
        higher_is_worse=worse,
    )
    (fairness,) = decide_tests(
        [
            {
                "check": "accuracy_parity", "value": value, "low": low, "high": high,
                "limit": "max_difference", "higher_is_worse": worse,
            }
        ],
        FairnessConfig(max_difference=limit),
    )  # fmt: skip
    # The generative family's "warn" threshold, set where nothing here reaches it.
    warn = 2.0 if worse else -1.0
    generative = generative_grade(
        value, limit, warn, lower_is_worse=not worse, interval=(low, high)
    )
    assert robustness.severity == fairness["severity"] == generative == expected
    if worse:  # the randomisation check: a high similarity is bad
        explain = sanity_verdict(
            value, low, high, ExplainConfig(max_randomisation_similarity=limit)
        )
        assert explain == expected


def test_a_warn_limit_warns_only_within_the_fail_limit():
    assert verdict(0.45, 0.4, 0.5, 0.3, higher_is_worse=False, warn=0.6) == "warn"
    assert verdict(0.7, 0.65, 0.75, 0.3, higher_is_worse=False, warn=0.6) == "pass"
    assert verdict(0.25, 0.2, 0.35, 0.3, higher_is_worse=False, warn=0.6) == "inconclusive"


@pytest.mark.parametrize(
    ("value", "limit", "text"),
    [(0.6988, 0.70, "0.699"), (0.7012, 0.70, "0.701"), (0.62, 0.70, "0.62"), (0.7, 0.7, "0.70")],
)
def test_a_printed_number_never_rounds_onto_its_limit(value, limit, text):
    assert shown(value, limit) == text
