"""RobustnessConfig: every bad value refused by name with the standard message, the
modality grids, the reference ε, and the thorough budgets."""

from __future__ import annotations

import pytest

import deepaudit as da
from deepaudit.audit.robustness import DEFAULT_EPSILONS, RobustnessConfig
from deepaudit.errors import ValidationError


def test_exact_messages():
    with pytest.raises(ValidationError) as info:
        RobustnessConfig(norms=["Linf", "L1"])
    assert str(info.value) == (
        "The 'norms' parameter of RobustnessConfig must be a non-empty list of distinct "
        "values from 'Linf', 'L2'. Got ['Linf', 'L1'] instead."
    )
    with pytest.raises(ValidationError) as info:
        RobustnessConfig(epsilons=[0.1, 0.05])
    assert str(info.value) == (
        "The 'epsilons' parameter of RobustnessConfig must be None or a non-empty increasing "
        "list of numbers, each a float in the range (0, inf). Got [0.1, 0.05] instead."
    )
    with pytest.raises(ValidationError) as info:
        RobustnessConfig(fgsm=True)
    assert str(info.value) == (
        "The 'fgsm' parameter of RobustnessConfig must be one of 'none', 'reference', 'all'. "
        "Got True instead."
    )
    with pytest.raises(ValidationError) as info:
        da.AuditConfig(options={"robustness": {"eps": [0.1]}})
    assert str(info.value).startswith(
        "The \"options['robustness']\" parameter of AuditConfig must be settings among "
        "'n_samples', 'norms', 'epsilons'"
    )


def test_grids_default_by_modality_and_the_reference_is_clamped_into_the_grid():
    config = RobustnessConfig()
    assert config.grid("Linf", "image") == DEFAULT_EPSILONS["Linf"]["image"]
    assert config.grid("L2", "tabular") == DEFAULT_EPSILONS["L2"]["tabular"]
    assert config.reference_epsilon("Linf", "image") == 4 / 255
    given = RobustnessConfig(epsilons=(0.1, 0.2), reference_index=-5)
    assert given.grid("Linf", "text") == (0.1, 0.2)
    assert given.reference_epsilon("Linf", "text") == 0.1
    assert RobustnessConfig(reference_index=7).reference_epsilon("Linf", "tabular") == 0.1


def test_thorough_spends_more_on_every_budget_and_accepts_overrides():
    fast, full = RobustnessConfig(), RobustnessConfig.thorough()
    for name in ("n_samples", "steps", "restarts", "bisection_steps", "query_budget"):
        assert getattr(full, name) > getattr(fast, name)
    assert full.norms == ("Linf", "L2") and full.fgsm == "all"
    assert RobustnessConfig.thorough(steps=7).steps == 7
