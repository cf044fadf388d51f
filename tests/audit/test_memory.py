"""Batch sizes from a memory budget over one sample's measured cost, and explain's budgets
in compute (GFLOP), so that a large model's audit is bounded in memory and time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import deepaudit as da
from deepaudit.audit.compute import forward_gflop
from deepaudit.audit.memory import (
    BACKWARD_COPIES,
    CPU_BUDGET_CAP_MB,
    activation_bytes,
    batch_budget_mb,
    batch_size_for,
    sample_bytes,
)


def test_activation_bytes_sum_every_leaf_output():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    # 8 + 8 + 3 float32 outputs for one row
    assert activation_bytes(model, torch.zeros(1, 4)) == (8 + 8 + 3) * 4
    assert sample_bytes(model, torch.zeros(1, 4)) == 4 * 4 + BACKWARD_COPIES * 19 * 4


def test_a_model_that_fails_falls_back_to_the_input_size():
    model = nn.Linear(5, 2)
    assert activation_bytes(model, torch.zeros(1, 4)) is None
    assert sample_bytes(model, torch.zeros(1, 4)) == 4 * 4 * 64


@pytest.mark.parametrize(
    ("per_sample", "budget_mb", "expected"),
    [(2**20, 1.0, 1), (2**20, 7.9, 4), (2**20, 8.0, 8), (1, 1e6, 4096), (2**30, 1.0, 1)],
)
def test_batch_sizes_are_the_power_of_two_the_budget_holds(per_sample, budget_mb, expected):
    assert batch_size_for(per_sample, budget_mb) == expected


def test_the_budget_is_a_share_of_free_memory_capped_on_a_cpu():
    cpu = torch.device("cpu")
    assert batch_budget_mb(cpu, 12.0) == 12.0
    assert 1.0 <= batch_budget_mb(cpu) <= CPU_BUDGET_CAP_MB


class _WideConv(nn.Module):
    """64 channels at full resolution: 32 x 32 x 64 float32 = 256 KiB a sample."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1)
        self.head = nn.Linear(64, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def _target(model: nn.Module, n: int = 8, **kwargs) -> da.Target:
    rng = np.random.default_rng(0)
    return da.Target(
        model,
        modality="image",
        data=torch.from_numpy(rng.random((n, 3, 32, 32), dtype=np.float32)),
        labels=np.arange(n) % 2,
        class_names=["a", "b"],
        input_range=(0.0, 1.0),
        **kwargs,
    )


def test_the_target_sizes_its_batches_from_the_measured_cost():
    torch.manual_seed(0)
    target = _target(_WideConv(), memory_budget_mb=4.0)
    per_sample = sample_bytes(target.model, target.data[:1])
    assert per_sample > 3 * 256 * 1024  # the conv's map, kept for backward, counted
    assert target.batch_size == batch_size_for(per_sample, 4.0)
    assert target.batch_size == 4  # 4 MiB over ~0.77 MiB a sample: 5, as a power of two 4
    target.memory_budget_mb = 16.0  # measured again within the new budget
    assert target.batch_size == 16
    given = _target(_WideConv(), batch_size=3, memory_budget_mb=4.0)
    given.memory_budget_mb = 16.0
    assert given.batch_size == 3  # a batch size given is kept


def test_the_audit_config_budget_reaches_the_target_and_the_provenance():
    torch.manual_seed(0)
    target = _target(_WideConv())
    bundle = da.run_audit(
        target, da.AuditConfig(families=("overview",), memory_budget_mb=4.0, progress=False)
    )
    assert bundle.provenance["batch_size"] == 4
    assert bundle.provenance["memory_budget_mb"] == 4.0


def test_forward_gflop_counts_a_convolution_exactly():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    # 2 FLOPs per multiply-add: 8 x 32 x 32 outputs, each over 3 x 3 x 3 inputs
    assert forward_gflop(conv, torch.zeros(1, 3, 32, 32)) == pytest.approx(
        2 * 8 * 32 * 32 * 27 / 1e9
    )
    assert forward_gflop(conv, torch.zeros(1, 4, 32, 32)) is None


def test_explain_spends_no_more_than_its_compute_budget():
    torch.manual_seed(0)
    target = _target(_WideConv())
    gflop = forward_gflop(target.model, target.data[:1])
    options = {
        "methods": ["integrated_gradients", "saliency"],
        "n_samples": 8,
        "max_gflop": 40 * gflop,  # 40 evaluations a method
        "max_check_gflop": 10 * gflop,
    }
    result = da.run_audit(
        target,
        da.AuditConfig(families=("explain",), options={"explain": options}, progress=False),
    )["explain"]
    note = next(n for n in result.notes if "GFLOP" in n)
    assert "may spend 40 model evaluations and each check 10" in note
    cost = {row["method"]: row for row in result.tables["cost"]}
    assert cost["integrated_gradients"]["model_evaluations"] <= 40
    cut = {row["method"]: row for row in result.tables["budget"]}
    assert cut["integrated_gradients"]["budget"] == 40  # 8 samples x 16 steps did not fit
    assert cut["integrated_gradients"]["raise"] == "max_gflop"
    uncapped = da.run_audit(
        target,
        da.AuditConfig(
            families=("explain",),
            options={"explain": {**options, "max_gflop": None, "max_check_gflop": None}},
            progress=False,
        ),
    )["explain"]
    assert not any("GFLOP" in n for n in uncapped.notes)
    assert {r["method"]: r for r in uncapped.tables["cost"]}["integrated_gradients"][
        "model_evaluations"
    ] > 40


def test_a_worker_copy_keeps_the_batch_size_measured_where_the_data_is():
    torch.manual_seed(0)
    target = _target(_WideConv(), memory_budget_mb=4.0)
    worker = target.for_worker()
    assert worker.data is None
    assert worker.batch_size == target.batch_size == 4
    assert worker.to("cpu").batch_size == 4


def test_measuring_the_batch_size_leaves_torchs_random_state_alone():
    class Noisy(_WideConv):
        def forward(self, x):
            return super().forward(x + 0.01 * torch.randn_like(x))

    torch.manual_seed(3)
    target = _target(Noisy())
    before = torch.get_rng_state()
    assert target.batch_size >= 1
    assert torch.equal(torch.get_rng_state(), before)
