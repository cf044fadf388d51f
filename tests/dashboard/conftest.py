"""Small saved runs for the dashboard's tests, audited once per session from the shared
tiny targets of ``tests/conftest.py`` with every family that applies to each (on small
budgets: the pages are tested here, not the audits)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import deepaudit as da
from deepaudit.dashboard import APP_PATH, state
from deepaudit.dashboard.runs import applicable_families

#: Small budgets, so the whole set of runs takes a few seconds.
FAST_OPTIONS = {
    "explain": {
        "n_samples": 4,
        "n_steps": 4,
        "n_noise_samples": 2,
        "n_seeds": 2,
        "n_curve_steps": 4,
        "n_perturbations": 4,
        "n_background": 4,
        "kernel_shap_samples": 16,
        "lime_samples": 50,
        "permutation_samples": 16,
        "occlusion_window": 3,
        "progress": False,
    },
    "robustness": {
        "n_samples": 30,
        "steps": 3,
        "n_bootstrap": 50,
        "query_samples": 4,
        "query_budget": 20,
        "natural_samples": 30,
        "monotonicity_samples": 4,
        "bisection_steps": 0,
        "progress": False,
    },
    "fairness": {"n_bootstrap": 50, "min_group_size": 5},
    "generative": {
        "n_generated": 60,
        "n_real": 50,
        "n_bootstrap": 20,
        "grid_size": 16,
        "n_interpolations": 2,
        "interpolation_steps": 4,
        "progress": False,
    },
}

_RUNS: dict[str, Path] = {}


def _audit(
    target: da.Target,
    name: str,
    out: Path,
    *,
    seed: int = 0,
    families: list[str] | None = None,
    methods: list[str] | None = None,
) -> Path:
    """Audit ``target`` as ``name`` into ``out/name`` (every applicable family by default)."""
    target.name = name
    families = families or applicable_families(target)
    options = {f: dict(FAST_OPTIONS[f]) for f in families if f in FAST_OPTIONS}
    if methods and "explain" in options:
        options["explain"]["methods"] = methods
    config = da.AuditConfig(
        families=families, options=options, seed=seed, output_dir=out / name, progress=False
    )
    da.run_audit(target, config)
    return out / name


@pytest.fixture
def runs_root(
    tmp_path_factory,
    tabular_target,
    image_target,
    text_target,
    generator_target,
    autoencoder_target,
) -> Path:
    """A folder of saved runs, audited once per session: a tabular classifier with every
    family (and again with another seed, for Compare), image and text classifiers
    (explanations, robustness), a generator and an autoencoder (generative)."""
    if not _RUNS:
        out = tmp_path_factory.mktemp("runs")
        fast = ["integrated_gradients", "feature_ablation"]
        _RUNS["tabular"] = _audit(tabular_target, "tabular", out, methods=fast)
        _RUNS["tabular-seed1"] = _audit(
            tabular_target, "tabular-seed1", out, seed=1, families=["overview", "fairness"]
        )
        _RUNS["image"] = _audit(
            image_target,
            "image",
            out,
            families=["overview", "explain", "robustness"],
            methods=["integrated_gradients", "saliency"],
        )
        _RUNS["text"] = _audit(
            text_target,
            "text",
            out,
            families=["overview", "explain", "robustness"],
            methods=["integrated_gradients", "occlusion"],
        )
        # Training samples (for the memorisation search) and the class of each real one.
        generator_target.train_data = torch.rand(
            60, 1, 4, 4, generator=torch.Generator().manual_seed(1)
        )
        generator_target.metadata["reference_labels"] = (
            (generator_target.reference_data.mean(dim=(1, 2, 3)) > 0.5).long().numpy()
        )
        _RUNS["generator"] = _audit(
            generator_target, "generator", out, families=["overview", "generative"]
        )
        _RUNS["autoencoder"] = _audit(
            autoencoder_target, "autoencoder", out, families=["overview", "generative"]
        )
    return next(iter(_RUNS.values())).parent


@pytest.fixture
def run_paths(runs_root) -> dict[str, Path]:
    return dict(_RUNS)


def make_app(run_dirs, **session) -> AppTest:
    """The dashboard opened on ``run_dirs`` (as ``deepaudit dashboard RUN_DIR ...`` does)."""
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.session_state[state.RUN_DIRS_KEY] = [str(p) for p in run_dirs]
    for key, value in session.items():
        at.session_state[key] = value
    return at


@pytest.fixture
def app(runs_root) -> AppTest:
    """The dashboard on the test runs, after its first script run."""
    at = make_app([runs_root]).run()
    assert not at.exception, at.exception
    return at


def on_page(runs_root: Path, page: str, run: str) -> AppTest:
    """The dashboard opened straight on ``screens/<page>.py`` with ``run`` on screen."""
    at = make_app([runs_root], **{state.CURRENT_KEY: run})
    at.switch_page(f"screens/{page}.py").run()
    assert not at.exception, at.exception
    return at
