"""The dashboard's pages: fixed ones around one page per audit family that has one.

A family's page comes from the family itself (``Family.page``): a script of its own in
``screens/``, or, for a plugin family whose page names no script, the generic page,
which draws the family's view. Families without a page are drawn on the Model page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from deepaudit.families import find_family, list_families

#: Not named "pages": a folder of that name turns on streamlit's older multipage mode,
#: which runs a page script without this one (no sidebar, no loaded runs).
SCREENS = Path(__file__).with_name("screens")

#: (script, title, icon) of the pages before and after the families' pages.
FIRST = (("findings.py", "Findings", ":material/fact_check:"),)
LAST = (
    ("compare.py", "Compare", ":material/compare:"),
    ("run.py", "Run", ":material/play_circle:"),
    ("open.py", "Open", ":material/upload_file:"),
)


def family_pages() -> dict[str, object]:
    """Family name -> its :class:`~deepaudit.families.Page`, for every family with one."""
    pages = {}
    for name in list_families():
        family = find_family(name)
        if family is not None and family.page is not None:
            pages[name] = family.page
    return pages


def has_own_page(family: str) -> bool:
    """Whether ``family`` is drawn on a page of its own (not on the Model page)."""
    page = family_pages().get(family)
    return page is not None and page.script != "model.py"


def generic_page(family: str):
    """The page of a family without a script of its own: its view, whole."""

    def draw() -> None:
        from deepaudit.dashboard.page import family_on_screen
        from deepaudit.dashboard.render import render_section

        found = find_family(family)
        _, _, _, section = family_on_screen(family, found.title if found else family)
        render_section(section, prefix=family)

    draw.__name__ = f"{family}_page"
    return draw


def page_target(family: str) -> str | None:
    """What ``st.page_link`` opens for ``family``'s page (``None``: it has none)."""
    page = family_pages().get(family)
    if page is None:
        return None
    if page.script is not None:
        return f"screens/{page.script}"
    return _PAGES.get(family)


_PAGES: dict[str, object] = {}


def build_pages() -> list:
    """Every page in menu order: the first pages, one per family, the last pages."""
    pages = [
        st.Page(SCREENS / script, title=title, icon=icon, default=i == 0)
        for i, (script, title, icon) in enumerate(FIRST)
    ]
    for name, page in family_pages().items():
        if page.script is not None:
            made = st.Page(SCREENS / page.script, title=page.title, icon=page.icon)
        else:
            made = st.Page(generic_page(name), title=page.title, icon=page.icon, url_path=name)
        _PAGES[name] = made
        pages.append(made)
    pages += [st.Page(SCREENS / script, title=title, icon=icon) for script, title, icon in LAST]
    return pages
