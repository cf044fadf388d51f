"""Every config is frozen and validated where it is made: one check over all of them
(``deepaudit.testing.check_config``, scikit-learn's ``check_param_validation`` in spirit),
plus what no generic check can know."""

from __future__ import annotations

import dataclasses

import pytest

import deepaudit as da
from deepaudit.configs import Config
from deepaudit.errors import ValidationError
from deepaudit.testing import check_config
from tests.reports.helpers import PlantedConfig

CONFIGS = [da.AuditConfig, *(da.get_family(n).config_class for n in da.list_families())]


@pytest.mark.parametrize("config_class", [*CONFIGS, PlantedConfig], ids=lambda c: c.__name__)
def test_every_config_follows_the_contract(config_class):
    check_config(config_class)


def test_a_config_cannot_be_changed_into_an_invalid_one_after_construction():
    config = da.FairnessConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.n_bootstrap = -5
    with pytest.raises(AttributeError):
        config.identity_attributes.append("caste")  # a tuple now
    with pytest.raises(TypeError):
        config.proxies["sex"] = ("relationship",)  # a read-only mapping
    with pytest.raises(ValidationError, match="'n_bootstrap' parameter of FairnessConfig"):
        config.replace(n_bootstrap=-5)
    audit = da.AuditConfig(options={"fairness": {"n_bootstrap": 5}})
    with pytest.raises(TypeError):
        audit.options["fairness"] = da.FairnessConfig()
    assert audit.options_for("fairness").n_bootstrap == 5


def test_lists_given_to_a_config_are_kept_as_tuples_and_saved_as_lists():
    config = da.FairnessConfig(sensitive_features=["sex"], proxies={"sex": ["relationship"]})
    assert config.sensitive_features == ("sex",)
    assert config.proxies["sex"] == ("relationship",)
    plain = config.to_dict()
    assert plain["sensitive_features"] == ["sex"] and plain["proxies"] == {"sex": ["relationship"]}
    assert da.FairnessConfig.from_dict(plain) == config


def test_constraints_check_their_own_arguments():
    from deepaudit._validation import Interval

    with pytest.raises(ValidationError) as info:
        Interval(int, 5, 1)
    assert str(info.value) == (
        "The 'high' parameter of Interval must be a number at least low=5. Got 1 instead."
    )
    with pytest.raises(ValidationError, match="'closed' parameter of Interval"):
        Interval(float, 0, 1, closed="both ends")
    with pytest.raises(ValidationError, match="'kind' parameter of Interval"):
        Interval(str)


def test_a_family_config_must_be_a_frozen_config_to_register():
    @dataclasses.dataclass
    class Loose:
        x: int = 1

    class Bad(da.Family):
        name, title, config_class = "bad", "Bad", Loose

    with pytest.raises(ValidationError) as info:
        da.register_family(Bad())
    assert "subclass of deepaudit.configs.Config" in str(info.value)
    assert issubclass(PlantedConfig, Config)


@pytest.mark.parametrize(
    ("config", "name", "value", "expected"),
    [
        ("fairness", "n_bootstrap", 10**8, "an int in the range [0, 100000]"),
        ("generative", "n_generated", 10**8, "an int in the range [2, 1000000]"),
        ("generative", "n_real", 10**7, "an int in the range [2, 1000000]"),
        ("robustness", "n_samples", 10**9, "an int in the range [1, 1000000]"),
        ("explain", "kernel_shap_samples", 10**7, "an int in the range [16, 100000]"),
    ],
)
def test_sizes_have_an_upper_bound_before_memory_runs_out(config, name, value, expected):
    # FairnessConfig(n_bootstrap=10**8) died with a 59.6 GiB MemoryError after work began
    from deepaudit.errors import ValidationError
    from deepaudit.families import get_family

    cls = get_family(config).config_class
    with pytest.raises(ValidationError) as caught:
        cls(**{name: value})
    assert str(caught.value) == (
        f"The {name!r} parameter of {cls.__name__} must be {expected}. Got {value} instead."
    )
