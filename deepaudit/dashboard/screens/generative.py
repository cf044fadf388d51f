"""Generative: what a generator makes and misses, and what an autoencoder fails to rebuild.

Generators: the saved sample grid, filtered by the class the label model gives each
sample; coverage by class; each generated sample closest to the training data beside its
nearest training neighbour. Everything is drawn by the report's generative view (its
image-grid helper for the interactive picks); nothing is regenerated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.page import family_on_screen, widget_key
from deepaudit.dashboard.render import (
    inert_once,
    md_escape,
    render_section,
    show_figure,
    show_frame,
)
from deepaudit.reports.views.generative import captioned_grid
from deepaudit.results import AuditBundle, FamilyResult

CLASSES_KEY = "generative.classes"
COLUMNS_KEY = "generative.columns"
RANK_KEY = "generative.rank"

#: Views drawn by the interactive parts of the page (left out of "everything else").
COVERAGE_KEYS = ("fidelity", "fidelity_chart", "coverage_by_class", "coverage_by_class_chart")
SHOWN_KEYS = ("sample_grid", *COVERAGE_KEYS)


def _is_image(array) -> bool:
    return array is not None and np.ndim(array) == 4 and len(array) > 0


def sample_picker(bundle: AuditBundle, result: FamilyResult) -> None:
    """The generated samples, filtered by the label model's class, in a chosen layout."""
    grid = result.arrays.get("sample_grid")
    if not _is_image(grid):
        return
    st.subheader("Generated samples")
    classes = result.arrays.get("sample_grid_classes")
    labels = None if classes is None else np.asarray([str(c) for c in classes])
    keep = np.arange(len(grid))
    if labels is not None:
        present = sorted(set(labels.tolist()), key=lambda c: (len(c), c))
        chosen = st.multiselect(
            "Classes (as the label model reads each sample)",
            present,
            default=present,
            key=widget_key(CLASSES_KEY),
        )
        keep = np.flatnonzero(np.isin(labels, chosen))
        counts = pd.Series(labels).value_counts().reindex(present, fill_value=0)
        st.caption(
            "Samples per class in the grid: "
            + ", ".join(f"{md_escape(c)}: {n}" for c, n in counts.items())
        )
    if not len(keep):
        st.info("No generated sample in the grid has the chosen classes.")
        return
    columns = st.slider(
        "Columns", 1, max(1, min(16, len(keep))), min(8, len(keep)), key=widget_key(COLUMNS_KEY)
    )
    figure = state.view(
        bundle,
        "generative.samples",
        (tuple(keep.tolist()), columns),
        lambda: inert_once(
            captioned_grid(
                bundle, grid[keep], columns, None if labels is None else list(labels[keep])
            )
        ),
    )
    show_figure(figure, key="generative-samples")


def neighbour_picker(bundle: AuditBundle, result: FamilyResult) -> None:
    """One generated sample beside its nearest training sample, with their distance."""
    generated = result.arrays.get("neighbour_generated")
    train = result.arrays.get("neighbour_train")
    if not (_is_image(generated) and _is_image(train)):
        return
    st.subheader("Nearest training neighbours")
    rank = (
        st.slider(
            "Generated sample, by closeness to the training data (1 = closest)",
            1,
            max(1, len(generated)),
            1,
            key=widget_key(RANK_KEY),
        )
        if len(generated) > 1
        else 1
    )
    i = rank - 1
    rows = result.tables.get("nearest_neighbours") or []
    row = rows[i] if i < len(rows) else {}
    left, right = st.columns([1, 1])
    with left:
        pair = state.view(
            bundle,
            "generative.neighbour",
            (i,),
            lambda: inert_once(
                captioned_grid(
                    bundle, np.stack([generated[i], train[i]]), 2, ["generated", "training"]
                )
            ),
        )
        show_figure(pair, key="generative-neighbour")
    with right:
        if row:
            show_frame(
                pd.DataFrame([row]).T.reset_index().set_axis(["", "value"], axis=1),
                key="generative-neighbour-row",
            )
            if row.get("copy"):
                st.warning("Within the copy threshold: this sample may reproduce training data.")


def render() -> None:
    _ref, bundle, result, section = family_on_screen("generative", "Generative")
    if bundle.target.get("kind") == "autoencoder" or "error_edges" in result.arrays:
        render_section(section, prefix="generative")
        return
    sample_picker(bundle, result)
    present = {item.key for item in section.items}
    if present & set(COVERAGE_KEYS):
        st.subheader("Coverage")
        render_section(section, prefix="generative", only=COVERAGE_KEYS, findings=False)
    neighbour_picker(bundle, result)
    st.subheader("Everything else the audit found")
    render_section(section, prefix="generative", skip=SHOWN_KEYS)


if __name__ == "__main__":
    render()
