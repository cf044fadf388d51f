"""The intervals of disparities cover the true gap at their nominal rate, whatever it is,
0 included; a gap sitting exactly at the limit fails no more often than the nominal
level; a rate of 0 or 1 keeps a width.

Each simulation draws groups with known selection rates (the largest minus the smallest
is the true gap) and runs the audit's own machinery: the cell table, its bootstrap, the
simultaneous intervals of the contrasts between groups, and the grading rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepaudit.audit.fairness import FairnessConfig
from deepaudit.audit.fairness.classifier import GroupTables, audit_cells
from deepaudit.audit.fairness.grade import decide_tests
from deepaudit.audit.fairness.groups import make_groupings
from deepaudit.audit.fairness.metrics import build_cells, group_metrics
from deepaudit.audit.fairness.simultaneous import with_test_intervals


def simulate(rng, gap: float, n_groups: int, n: int = 2000, base: float = 0.3):
    """Labels, scores and groups: each group selected at ``base`` (the last at
    ``base + gap``), labels independent of the decision."""
    groups = rng.integers(0, n_groups, n)
    rates = np.full(n_groups, base)
    rates[-1] = base + gap
    selected = rng.random(n) < rates[groups]
    scores = np.where(selected, 0.75, 0.25)
    labels = rng.integers(0, 2, n)
    return labels, scores, np.array([f"g{g}" for g in groups])


def dp_test(rng, gap, n_groups, config, n=2000):
    """The demographic-parity test of one simulated audit (value, interval, severity)."""
    y, s, groups = simulate(rng, gap, n_groups, n)
    (grouping,) = make_groupings(pd.DataFrame({"g": groups}), ["g"], 1, "test")
    cells = build_cells(y, s, grouping.codes, len(grouping.names), 0.5, 4)
    tables = GroupTables()
    audit_cells(cells, grouping, ["1"], config, rng, tables)
    rows = with_test_intervals(tables.test_rows, tables.test_contrasts, "simultaneous", 0.95)
    rows = decide_tests(rows, config)
    return next(r for r in rows if r["check"] == "demographic_parity")


CONFIG = FairnessConfig(min_group_size=30)  # the default 1,000 resamples


@pytest.mark.parametrize("n_groups", [2, 4])
def test_a_null_gap_is_covered_and_never_fails_fast(n_groups):
    rng = np.random.default_rng(11)
    rows = [dp_test(rng, 0.0, n_groups, CONFIG) for _ in range(60)]
    assert sum(r["low"] <= 0.0 <= r["high"] for r in rows) >= 55  # ≥ 93 % within noise
    assert all(r["low"] == 0.0 or r["severity"] != "pass" or r["high"] <= 0.1 for r in rows)
    assert not any(r["severity"] == "fail" for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("n_groups", [2, 4])
@pytest.mark.parametrize("gap", [0.0, 0.02, 0.06, 0.1])
def test_intervals_cover_the_true_gap_at_the_nominal_rate(gap, n_groups):
    rng = np.random.default_rng(int(gap * 1000) + n_groups)
    rows = [dp_test(rng, gap, n_groups, CONFIG) for _ in range(400)]
    covered = np.mean([r["low"] <= gap <= r["high"] for r in rows])
    assert covered >= 0.93, covered


@pytest.mark.slow
@pytest.mark.parametrize("n_groups", [2, 4])
def test_a_gap_at_the_limit_fails_no_more_often_than_the_nominal_level(n_groups):
    rng = np.random.default_rng(7 + n_groups)
    config = FairnessConfig(max_difference=0.1)
    rows = [dp_test(rng, 0.1, n_groups, config) for _ in range(400)]
    fail_rate = np.mean([r["severity"] == "fail" for r in rows])
    assert fail_rate <= 0.05, fail_rate


def test_a_rate_of_zero_or_one_keeps_a_width():
    y = np.array([0, 1] * 50)
    s = np.array([0.9] * 50 + [0.1] * 50)  # group a always selected, group b never
    groups = np.array(["a"] * 50 + ["b"] * 50)
    table = group_metrics(y, s, groups, n_boot=100, random_state=0)
    rows = table.set_index("group")
    assert rows.loc["a", "selection_rate"] == 1.0 and rows.loc["b", "selection_rate"] == 0.0
    assert (
        rows.loc["a", "selection_rate_low"] < 0.95 and rows.loc["a", "selection_rate_high"] == 1.0
    )
    assert (
        rows.loc["b", "selection_rate_low"] == 0.0 and rows.loc["b", "selection_rate_high"] > 0.05
    )


def test_equal_groups_give_an_interval_from_zero():
    rng = np.random.default_rng(3)
    row = dp_test(rng, 0.0, 2, CONFIG, n=4000)
    assert row["low"] == 0.0 and 0 <= row["value"] <= row["high"] < 0.1
    assert row["severity"] == "pass"
