import dataclasses

import pytest
import torch

import deepaudit as da
from deepaudit.errors import ValidationError


def test_exact_messages_read_like_scikit_learn():
    with pytest.raises(ValidationError) as info:
        da.AuditConfig(seed=-1)
    assert str(info.value) == (
        "The 'seed' parameter of AuditConfig must be an int in the range [0, 4294967295]. "
        "Got -1 instead."
    )
    with pytest.raises(ValidationError) as info:
        da.AuditConfig(families=["overveiw"])
    assert str(info.value).startswith(
        "The 'families' parameter of AuditConfig must be a non-empty list of distinct values "
        "from 'overview'"
    )
    assert str(info.value).endswith("Got ['overveiw'] instead.")
    with pytest.raises(ValidationError, match=r"Got True instead"):
        da.AuditConfig(seed=True)  # a bool is not an int here


def test_options_accept_a_dict_or_the_family_config_and_reject_unknown_settings():
    config = da.AuditConfig(options={"overview": {"n_bins": 15}})
    assert config.options_for("overview") == da.OverviewConfig(n_bins=15)
    assert da.AuditConfig().options_for("overview") == da.OverviewConfig()
    with pytest.raises(ValidationError) as info:
        da.AuditConfig(options={"overview": {"bins": 15}})
    assert str(info.value).startswith(
        "The \"options['overview']\" parameter of AuditConfig must be settings among 'n_bins'"
    )
    with pytest.raises(ValidationError, match="keys naming audit families"):
        da.AuditConfig(options={"nope": {}})
    with pytest.raises(ValidationError) as info:
        da.AuditConfig(options={"overview": {"n_bins": 1}})
    assert "'n_bins' parameter of OverviewConfig" in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a CPU-only machine")
def test_cuda_on_a_machine_without_cuda_is_refused_before_work(tabular_target):
    config = da.AuditConfig(device="cuda")  # valid in itself
    with pytest.raises(ValidationError) as info:
        da.run_audit(tabular_target, config)
    assert str(info.value) == (
        "The 'device' parameter of AuditConfig must be 'cpu' or 'auto' on a machine without "
        "CUDA. Got 'cuda' instead."
    )


def test_to_dict_spells_out_every_default():
    d = da.AuditConfig(seed=3).to_dict()
    assert d["seed"] == 3
    assert d["options"]["overview"] == dataclasses.asdict(da.OverviewConfig())
