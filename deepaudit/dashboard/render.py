"""Draw report views with Streamlit: the one place the dashboard turns a view into widgets.

Every page shows numbers through :mod:`deepaudit.reports.views` (tables, plotly figures,
text) and draws them here, so the dashboard and the HTML report show the same numbers.
Text from a bundle is shown plain: markdown is escaped, HTML is never allowed.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import replace

import pandas as pd
import streamlit as st

from deepaudit.reports.findings import WORD_JOINER, defuse_links
from deepaudit.reports.views import FigureView, Section, TableView, TextView, View
from deepaudit.results import Finding

#: The icon of each severity (streamlit's bundled Material icons: no network, no emoji
#: font needed); the word is always shown too.
SEVERITY_ICON = {
    "fail": ":material/cancel:",
    "warn": ":material/warning:",
    "inconclusive": ":material/help:",
    "pass": ":material/check_circle:",
    None: ":material/remove:",
}
SEVERITY_COLOUR = {
    "fail": "red",
    "warn": "orange",
    "inconclusive": "violet",
    "pass": "green",
    None: "gray",
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
#: Streamlit's Markdown links ``www.`` in the text it has already unescaped, even with a
#: joiner after the dot (``defuse_links``'s place for it); a joiner before the dot holds.
_WWW = re.compile(r"(?i)(www)(?=\.)")


def md_escape(text: object) -> str:
    """``text`` with every markdown (and streamlit directive) character backslash-escaped,
    and autolinks (``www.``, ``://``, ``@``) broken by invisible joiners, so a group name
    or a message from a bundle is shown as it is, never as a link."""
    text = _WWW.sub(lambda m: m.group(1) + WORD_JOINER, str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", defuse_links(text))


def severity_label(severity: str | None, count: int | None = None) -> str:
    """``"fail"``, ``"fail ×2"`` when several findings share it, ``"not run"`` for none."""
    word = severity if severity is not None else "not run"
    suffix = f" ×{count}" if count and count > 1 else ""
    return f"{word}{suffix}"


def severity_badge(severity: str | None) -> str:
    """A coloured markdown badge holding the severity's word."""
    colour = SEVERITY_COLOUR.get(severity, "gray")
    return f":{colour}-badge[{SEVERITY_ICON.get(severity, SEVERITY_ICON[None])} {severity_label(severity)}]"


#: Figures already made inert by :func:`inert_once`, by id (an entry goes with its figure).
_INERT: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def inert_once(figure):
    """An inert copy of ``figure`` (:func:`deepaudit.reports.views.base.inert_figure`) that
    :func:`show_figure` draws as it is: for figures cached across sessions, made inert once
    per process instead of at every script run. The copy must not be changed afterwards.
    ``None`` (a view that drew nothing) stays ``None``."""
    if figure is None or _INERT.get(id(figure)) is figure:
        return figure
    from deepaudit.reports.views.base import inert_figure

    copy = inert_figure(figure)
    _INERT[id(copy)] = copy
    return copy


def inert_section(section: Section) -> Section:
    """``section`` with each figure replaced by its :func:`inert_once` copy (the section
    itself is not changed)."""
    items = [
        replace(item, figure=inert_once(item.figure)) if isinstance(item, FigureView) else item
        for item in section.items
    ]
    return replace(section, items=items)


def show_figure(figure, *, key: str | None = None) -> None:
    """A plotly figure with every label made inert (no link or style from data can reach
    the page: :func:`deepaudit.reports.views.base.inert`)."""
    st.plotly_chart(inert_once(figure), key=key, config={"displaylogo": False})


def show_frame(frame: pd.DataFrame, *, key: str | None = None, height: int | str = "auto") -> None:
    """A table as a read-only, sortable grid without the index."""
    st.dataframe(_arrow_safe(frame), hide_index=True, key=key, height=height)


def render_item(item: View, *, prefix: str, family: str) -> None:
    """One view: a table, a plotly figure, or plain text, with its title and caption.

    ``prefix`` makes the widget keys unique when the same view is drawn twice on a page
    (the two sides of Compare).
    """
    key = f"{prefix}-{family}-{item.key}"
    if isinstance(item, TableView):
        st.markdown(f"**{md_escape(item.title)}**")
        show_frame(item.frame, key=key)
        if item.caption:
            st.caption(md_escape(item.caption))
    elif isinstance(item, FigureView):
        st.markdown(f"**{md_escape(item.title)}**")
        show_figure(item.figure, key=key)
        if item.caption:
            st.caption(md_escape(item.caption))
    elif isinstance(item, TextView):
        if item.title:
            st.markdown(f"**{md_escape(item.title)}**")
        st.text(item.text)
    else:  # pragma: no cover - the view contract has three item types
        st.warning(f"Cannot show a view of type {type(item).__name__}.")


def render_section(
    section: Section,
    *,
    prefix: str = "main",
    skip: Iterable[str] = (),
    only: Iterable[str] | None = None,
    findings: bool = True,
) -> None:
    """A whole family section: its findings, then each of its views in order.

    ``skip`` leaves out views a page has already drawn interactively; ``only`` keeps just
    the named views.
    """
    skip = set(skip)
    keep = None if only is None else set(only)
    if findings and section.findings:
        render_findings(section.findings)
    for item in section.items:
        if item.key in skip or (keep is not None and item.key not in keep):
            continue
        render_item(item, prefix=prefix, family=section.family)
    if section.cost and keep is None:
        seconds = section.cost.get("seconds")
        evaluations = section.cost.get("model_evaluations")
        if seconds is not None:
            st.caption(
                f"{section.title}: {float(seconds):.1f} s, {int(evaluations or 0):,} model evaluations."
            )


def render_findings(findings: Iterable[Finding]) -> None:
    """Findings as one line each: severity mark and word, family, sentence."""
    for finding in findings:
        st.markdown(
            f"{severity_badge(finding.severity)} **{md_escape(finding.family)}** · "
            f"{md_escape(finding.message)}"
        )


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing numbers and text become text, so Arrow can serialise them."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            kinds = {type(v) for v in frame[column] if not _missing(v)}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
                frame[column] = frame[column].map(lambda v: v if v is None else str(v))
    return frame


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)
