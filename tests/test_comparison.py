"""Runs compared by finding id: each kind of change, and an incomplete new run."""

import copy

from deepaudit.comparison import compare_runs, regressions
from deepaudit.results import Evidence, Finding
from tests.test_results import _bundle


def _with(bundle, check, severity):
    result = bundle["handmade"]
    kept = [f for f in result.findings if f.check != check]
    if severity is not None:
        kept.append(Finding("handmade", check, severity, f"{check} is {severity}", Evidence("m")))
    result.findings = kept
    return bundle


def test_each_kind_of_change_by_id_and_only_new_or_worse_is_a_regression():
    base = _bundle()  # a: pass, b: fail, c: warn
    new = copy.deepcopy(base)
    _with(new, "a", "fail")  # worsened
    _with(new, "b", "pass")  # improved
    _with(new, "c", None)  # resolved
    _with(new, "d", "warn")  # new
    _with(new, "e", "pass")  # added
    changes = {c.id: c.kind for c in compare_runs(base, new)}
    assert changes == {
        "handmade.a": "worsened",
        "handmade.b": "improved",
        "handmade.c": "resolved",
        "handmade.d": "new",
        "handmade.e": "added",
    }
    assert sorted(c.id for c in regressions(compare_runs(base, new))) == [
        "handmade.a",
        "handmade.d",
    ]
    assert compare_runs(base, copy.deepcopy(base)) == []


def test_an_incomplete_new_run_is_a_regression_even_when_nothing_else_moved():
    base = _bundle()
    new = copy.deepcopy(base)
    new.provenance["incomplete"] = {"stopped_in": "x", "error": "boom", "not_run": ["x"]}
    found = regressions(compare_runs(base, new))
    assert [c.kind for c in found] == ["incomplete"]
    assert "stopped in the 'x' family" in found[0].message
