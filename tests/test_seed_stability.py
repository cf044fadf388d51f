"""Verdicts that do not flip with the audit seed (slow: reference models).

The seed draws the explained samples, the bootstrap resamples, the attack starts and
the weights of re-initialised copies. A verdict that changes when only the seed
changes says more about the seed than about the model: where a check cannot decide on
the sample it has, it must say inconclusive, every time.
"""

from __future__ import annotations

import collections

import pytest

import deepaudit as da
from deepaudit.models import load_model
from tests.helpers import demo_audits

#: Three methods each model's modality takes (text has no saliency or GradientSHAP).
METHODS = {
    "image": ["integrated_gradients", "saliency", "gradient_shap"],
    "tabular": ["integrated_gradients", "saliency", "gradient_shap"],
    "text": ["integrated_gradients", "occlusion", "lime"],
}


def _explain_quality(target, seed: int) -> dict[str, str]:
    options = {"methods": METHODS[target.modality], "progress": False}
    config = da.AuditConfig(
        families=["explain"], options={"explain": options}, seed=seed, progress=False
    )
    quality = da.run_audit(target, config)["explain"].tables["quality"]
    return {r["method"]: r["sanity"] for r in quality if r["method"] != "random"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "transformer", "lstm"])
def test_the_randomisation_check_gives_one_verdict_over_twenty_seeds(name):
    target = load_model(name, device="cpu")
    seen = collections.defaultdict(set)
    for seed in range(20):
        for method, verdict in _explain_quality(target, seed).items():
            seen[method].add(verdict)
    assert all(len(v) == 1 for v in seen.values()), dict(seen)


def demo_verdicts(seed: int) -> dict[str, str]:
    """Finding id -> severity over the demo's models, as ``deepaudit demo`` audits them."""
    verdicts = {}
    for name, bundle in demo_audits(seed):
        seen: collections.Counter = collections.Counter()
        for result in bundle.families.values():
            for finding in result.findings:  # in the order each family measures them
                key = f"{name}:{finding.id}"
                seen[key] += 1
                verdicts[f"{key}#{seen[key]}"] = finding.severity
    return verdicts


@pytest.mark.slow
def test_the_demo_changes_at_most_one_verdict_across_seeds_zero_to_four():
    runs = [demo_verdicts(seed) for seed in range(5)]
    keys = set().union(*runs)
    changes = {
        key: [run.get(key, "-") for run in runs]
        for key in sorted(keys)
        if len({run.get(key, "-") for run in runs}) > 1
    }
    total = sum(len(set(v)) - 1 for v in changes.values())
    assert total <= 1, changes
