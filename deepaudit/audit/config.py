"""``AuditConfig``: which audit families run, with what budgets, limits and seed.

The general knobs (families, seed, device, batch size, output folder) sit here; each
family's own budgets and limits live in that family's config, passed in ``options`` (as
the config or as a dict of its fields). Everything is validated when the config is
built, and frozen after, so a bad value fails before any work starts and cannot be
set later. Building one imports no family's measuring code (nor torch).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepaudit._validation import NONE, InstanceOf, Interval, OneOf, Satisfies, SubsetOf
from deepaudit.audit.engine import ENGINES
from deepaudit.configs import Config, freeze
from deepaudit.errors import parameter_error
from deepaudit.families import get_family, list_families

DEFAULT_FAMILIES = ("overview",)


@dataclass(frozen=True)
class AuditConfig(Config):
    """What ``run_audit`` does.

    Parameters
    ----------
    families
        Audit families to run, in order (see ``deepaudit.list_families()``).
    options
        Per-family settings: ``{"overview": OverviewConfig(n_bins=15)}`` or
        ``{"overview": {"n_bins": 15}}``. Families not named use their defaults.
    seed
        Seed of every random choice; the same seed gives the same numbers.
    device
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    batch_size, memory_budget_mb
        Samples per model call, and the memory (MB) one may take. ``None``: the Target's
        own (by default as many samples as a quarter of the device's free memory holds,
        at most 1 GiB on a CPU, at one sample's cost measured by a forward pass).
    max_samples, sample_seed
        Audit at most this many evaluation samples: a random subset drawn with
        ``sample_seed``, apart from ``seed``, so that another audit seed audits the same
        data again (and only the audit's own randomness moves).
    output_dir
        When set, ``run_audit`` saves the bundle there.
    engine, workers, ray_address
        Where the per-batch work over every row runs: ``"local"`` (this process) or
        ``"ray"`` (Ray actors, one per GPU where there are GPUs, else one per CPU;
        ``workers`` sets how many). ``ray_address`` joins an existing Ray cluster;
        by default a local one is started and stopped. Both engines give the same
        numbers for the same seed. Ray is the optional extra ``deepaudit[ray]``.
    progress
        Show progress bars.
    n_threads
        Threads of torch's CPU kernels and of OpenMP/BLAS while each family runs,
        restored afterwards. ``"auto"``: a family's own ``n_threads`` setting where it has
        one (explain, generative: 1), else :func:`~deepaudit.audit.device.default_threads`,
        half the cores this process may use, so that a neighbour (another audit, a
        training job) does not leave torch's threads spinning on each other; an int sets
        every family; ``None`` leaves the process's setting.
    """

    families: tuple[str, ...] = DEFAULT_FAMILIES
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: str = "auto"
    batch_size: int | None = None
    memory_budget_mb: float | None = None
    max_samples: int | None = None
    sample_seed: int = 0
    output_dir: str | os.PathLike | None = None
    progress: bool = True
    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    n_threads: int | str | None = "auto"

    @classmethod
    def constraints(cls) -> dict[str, list]:
        return audit_config_constraints()

    def check(self) -> None:
        # Family settings become their (frozen) configs: a dict is validated by its class.
        options = {name: _family_options(name, value) for name, value in self.options.items()}
        object.__setattr__(self, "options", freeze(options))

    def options_for(self, family: str) -> Any:
        """The family's settings: those given in ``options``, else its defaults."""
        if family in self.options:
            return self.options[family]
        return get_family(family).config_class()

    def to_dict(self) -> dict:
        """Plain data, with every family's settings (defaults included) spelled out."""
        return {
            "families": list(self.families),
            "options": {name: self.options_for(name).to_dict() for name in self.families},
            "seed": self.seed,
            "device": self.device,
            "batch_size": self.batch_size,
            "memory_budget_mb": None
            if self.memory_budget_mb is None
            else float(self.memory_budget_mb),
            "max_samples": self.max_samples,
            "sample_seed": self.sample_seed,
            "output_dir": None if self.output_dir is None else str(Path(self.output_dir)),
            "progress": self.progress,
            "engine": self.engine,
            "workers": self.workers,
            "ray_address": self.ray_address,
            "n_threads": self.n_threads,
        }


def audit_config_constraints() -> dict[str, list]:
    """The constraints of every AuditConfig parameter (families are read from the registry
    when checked, so a family registered later is accepted)."""
    return {
        "families": [SubsetOf(list_families)],
        "options": [InstanceOf((Mapping,), "a dict from family name to its settings")],
        "seed": [Interval(int, 0, 2**32 - 1)],
        "device": [
            OneOf(("auto", "cpu", "cuda")),
            Satisfies(
                lambda d: isinstance(d, str) and d.startswith("cuda:") and d[5:].isdigit(),
                "'cuda:N'",
                "gpu",
            ),
        ],
        "batch_size": [NONE, Interval(int, 1, None)],
        "memory_budget_mb": [NONE, Interval(float, 1, None)],
        "max_samples": [NONE, Interval(int, 1, None)],
        "sample_seed": [Interval(int, 0, 2**32 - 1)],
        "output_dir": [NONE, InstanceOf((str, os.PathLike), "a path")],
        "progress": [InstanceOf((bool,), "a bool")],
        "engine": [OneOf(ENGINES)],
        "workers": [NONE, Interval(int, 1, None)],
        "ray_address": [NONE, InstanceOf((str,), "a str such as 'ray://host:10001' or 'auto'")],
        "n_threads": [NONE, OneOf(("auto",)), Interval(int, 1, 1024)],
    }


def _family_options(name: str, value: Any) -> Any:
    families = list_families()
    if name not in families:
        raise parameter_error(
            "options",
            "AuditConfig",
            "keys naming audit families (" + ", ".join(map(repr, families)) + ")",
            name,
        )
    config_class = get_family(name).config_class
    if isinstance(value, config_class):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(config_class.field_names()))
        if unknown:
            allowed = ", ".join(map(repr, config_class.field_names()))
            raise parameter_error(
                f"options[{name!r}]", "AuditConfig", f"settings among {allowed}", unknown
            )
        return config_class(**dict(value))
    raise parameter_error(
        f"options[{name!r}]",
        "AuditConfig",
        f"a {config_class.__name__} or a dict of its fields",
        value,
    )
