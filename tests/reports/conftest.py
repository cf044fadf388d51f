"""Bundles for the report tests: real overview audits of the tiny targets, and a bundle with
markup planted in a feature name, a group label and a class name."""

from __future__ import annotations

from pathlib import Path

import pytest

import deepaudit as da
from tests.reports.helpers import (
    PLANTED_FEATURE,
    PlantedFamily,
    make_planted_target,
    overview_bundle,
    planted_family_result,
)


@pytest.fixture
def classifier_bundle(tabular_target) -> da.AuditBundle:
    tabular_target.metadata["intended_use"] = "Ranking loan files for a second human review."
    tabular_target.name = "tiny-tabular"
    return overview_bundle(tabular_target)


@pytest.fixture
def autoencoder_bundle(autoencoder_target) -> da.AuditBundle:
    return overview_bundle(autoencoder_target)


@pytest.fixture
def generator_bundle(generator_target) -> da.AuditBundle:
    return overview_bundle(generator_target)


@pytest.fixture
def planted_target(rng) -> da.Target:
    """A classifier whose feature name, group label and class name are markup."""
    return make_planted_target(rng)


@pytest.fixture
def planted_family():
    """The planted family, registered for the test and removed after it."""
    da.register_family(PlantedFamily())
    yield
    da.unregister_family("planted")


@pytest.fixture
def planted_bundle(planted_target, planted_family) -> da.AuditBundle:
    """Overview of the planted target plus the hand-built family, registered with its view."""
    planted_target.metadata["model_card"] = (
        f"# Card\n\n## Intended use\n\nTesting {PLANTED_FEATURE} [a link](https://example.org)."
    )
    bundle = overview_bundle(planted_target)
    bundle.families["planted"] = planted_family_result()
    return bundle


@pytest.fixture
def saved(tmp_path):
    """Save a bundle into a fresh run folder under tmp_path and return the folder."""

    def save(bundle: da.AuditBundle, name: str = "run") -> Path:
        return bundle.save(tmp_path / name)

    return save
