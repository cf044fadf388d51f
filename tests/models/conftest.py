"""Shared fixtures: each reference model is loaded once per test session."""

from __future__ import annotations

import pytest

from deepaudit.models import load_model


@pytest.fixture(scope="session")
def loaded_models():
    """A cache name -> Target, filled on first use, so each model loads once."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_model(name, device="cpu")
        return cache[name]

    return get
