"""A feature that stands in for a sensitive attribute is found without being named."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import deepaudit as da
from deepaudit.audit.explain.proxies import hanley_mcneil, predictive_auc
from tests.audit.fairness.fairness_toys import group_target


def explain(target: da.Target, **options) -> da.FamilyResult:
    options = {"methods": ["integrated_gradients", "kernel_shap"], "progress": False} | options
    config = da.AuditConfig(families=["explain"], options={"explain": options}, progress=False)
    return da.run_audit(target, config)["explain"]


def by_check(result: da.FamilyResult) -> dict[str, da.Finding]:
    return {f.check: f for f in result.findings}


def test_a_planted_proxy_the_model_uses_is_reported_naming_feature_and_attribute():
    # `proxy` is the group plus a little noise; the model leans on it (weight 2) and is
    # not given the group itself (weight 0). Nobody names `proxy` as a proxy.
    result = explain(group_target(seed=0, proxy_weight=2.0))
    finding = by_check(result)["proxy:group"]
    assert finding.severity == "warn"
    assert finding.subject == "group" and finding.evidence.group == "proxy"
    assert "`proxy`" in finding.message and "`group`" in finding.message
    row = next(r for r in result.tables["proxies"] if r["feature"] == "proxy")
    assert row["auc"] > 0.99 and row["auc_low"] > 0.8
    assert row["share"] >= 0.05
    assert finding.evidence.value == row["auc"]
    # The signal x0 does not predict the group.
    x0 = next(r for r in result.tables["proxies"] if r["feature"] == "x0")
    assert x0["auc"] < 0.6


def test_a_proxy_the_model_ignores_is_not_reported():
    result = explain(group_target(seed=0, proxy_weight=0.0))
    finding = by_check(result)["proxy:group"]
    assert finding.severity == "pass"
    row = next(r for r in result.tables["proxies"] if r["feature"] == "proxy")
    assert row["auc"] > 0.99 and row["share"] < 0.05  # it predicts the group, unused


def test_the_auc_is_sklearns_and_a_category_cannot_predict_by_memorising(rng):
    member = rng.random(4000) < 0.3
    values = member + rng.normal(size=4000)
    auc = predictive_auc(values, member, False, rng)
    assert auc == pytest.approx(roc_auc_score(member, values))
    assert predictive_auc(-values, member, False, rng) == pytest.approx(auc)  # either way round
    # 2,000 categories of 2 rows each, unrelated to the group: in-sample shares would
    # separate perfectly; cross-fitted ones are at chance.
    ids = np.repeat(np.arange(2000), 2)
    assert predictive_auc(ids, member, True, rng) == pytest.approx(0.5, abs=0.05)


def test_the_auc_interval_covers_at_the_nominal_rate(rng):
    # Scores N(d, 1) vs N(0, 1): the AUC is Phi(d / sqrt 2).
    from scipy.stats import norm

    d, n = 1.0, 300
    truth = norm.cdf(d / np.sqrt(2))
    covered = 0
    for _ in range(400):
        pos, neg = rng.normal(d, size=n), rng.normal(size=n)
        auc = roc_auc_score(np.r_[np.ones(n), np.zeros(n)], np.r_[pos, neg])
        low, high = hanley_mcneil(auc, n, n, 0.95)
        covered += low <= truth <= high
    assert covered / 400 >= 0.93
