"""The dashboard's pages come from the families: a family with a page gets one, a family
without one is drawn on the Model page, whoever wrote it."""

from __future__ import annotations

import numpy as np

import deepaudit as da
from deepaudit.dashboard import state
from deepaudit.dashboard.navigation import family_pages, has_own_page, page_target
from tests.dashboard.conftest import make_app
from tests.reports.helpers import (
    PlantedFamily,
    make_planted_target,
    overview_bundle,
    planted_family_result,
)


class PagedPlanted(PlantedFamily):
    name = "paged"
    page = da.Page("Paged", ":material/star:")


def test_the_built_in_families_bring_their_own_pages():
    pages = family_pages()
    assert {n: p.script for n, p in pages.items()} == {
        "overview": "model.py",
        "explain": "explanations.py",
        "fairness": "fairness.py",
        "robustness": "robustness.py",
        "generative": "generative.py",
    }
    assert not has_own_page("overview")  # it is the Model page
    assert all(has_own_page(n) for n in ("explain", "fairness", "robustness", "generative"))
    assert page_target("fairness") == "screens/fairness.py"


def test_a_registered_family_gets_a_page_only_when_it_asks_for_one():
    da.register_family(PlantedFamily())
    da.register_family(PagedPlanted())
    try:
        pages = family_pages()
        assert "planted" not in pages and not has_own_page("planted")
        assert pages["paged"].title == "Paged" and pages["paged"].script is None
        assert has_own_page("paged")
    finally:
        da.unregister_family("planted")
        da.unregister_family("paged")


def test_a_family_without_a_page_is_drawn_on_the_model_page(tmp_path):
    da.register_family(PlantedFamily())
    try:
        bundle = overview_bundle(make_planted_target(np.random.default_rng(0)))
        bundle.families["planted"] = planted_family_result()
        bundle.save(tmp_path / "planted")
        at = make_app([tmp_path / "planted"], **{state.CURRENT_KEY: "planted"})
        at.switch_page("screens/model.py").run()
        assert not at.exception, at.exception
        assert any("Planted" in h.value for h in at.header)
    finally:
        da.unregister_family("planted")
