"""``AuditConfig(n_threads=...)``: every family runs with the threads it says, and the
process's own setting is back afterwards."""

import pytest
import torch

import deepaudit as da
from deepaudit.audit.device import default_threads
from deepaudit.families import get_family


@pytest.fixture
def threads_seen(monkeypatch):
    """The torch thread count each family saw while it ran."""
    seen = {}
    for name in ("overview", "explain", "robustness"):
        family = get_family(name)
        real = family.run

        def run(target, options, seed, _real=real, _name=name):
            seen[_name] = torch.get_num_threads()
            return _real(target, options, seed)

        monkeypatch.setattr(family, "run", run)
    return seen


def _audit(target, explain_threads=1, **config):
    explain = {"methods": ["saliency"], "n_samples": 4, "n_threads": explain_threads}
    return da.run_audit(
        target,
        da.AuditConfig(
            families=["overview", "explain", "robustness"],
            options={"explain": explain},
            progress=False,
            **config,
        ),
    )


def test_an_int_sets_every_family_and_the_process_gets_its_own_back(tabular_target, threads_seen):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        bundle = _audit(tabular_target, n_threads=1)
        assert threads_seen == {"overview": 1, "explain": 1, "robustness": 1}
        assert torch.get_num_threads() == 2
        assert bundle.provenance["threads_per_family"] == threads_seen
        assert bundle.config["n_threads"] == 1
    finally:
        torch.set_num_threads(before)


def test_auto_is_a_familys_own_setting_else_half_the_cores(tabular_target, threads_seen):
    bundle = _audit(tabular_target)
    assert threads_seen["explain"] == 1  # ExplainConfig.n_threads's default
    assert threads_seen["overview"] == threads_seen["robustness"] == default_threads()
    assert bundle.provenance["threads_per_family"] == threads_seen


def test_none_leaves_the_process_setting(tabular_target, threads_seen):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _audit(tabular_target, explain_threads=None, n_threads=None)
        assert set(threads_seen.values()) == {2}
    finally:
        torch.set_num_threads(before)


def test_default_threads_is_half_the_cores(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert default_threads() == 8
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert default_threads() == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_threads() == 1
