"""Robustness: how easily the model breaks, and for whom first.

Accuracy against the attack budget ε for each group of a chosen attribute (the report's
own curve, with the audit's intervals); pick an ε to read each group's accuracy there and to see the saved
adversarial examples that break the model within it, with the prediction before and
after. Every number is the audit's (its curve and examples tables and arrays); below, the
report's robustness view shows the rest.
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
from deepaudit.reports.views.robustness import curve_figure, examples_figure
from deepaudit.results import FamilyResult

ATTACK_KEY = "robustness.attack"
ATTRIBUTE_KEY = "robustness.attribute"
EPSILON_KEY = "robustness.epsilon"
OVERALL = "overall"
MAX_EXAMPLES = 6


def curve_frame(result: FamilyResult) -> pd.DataFrame:
    """The audit's accuracy-against-ε table (one row per attack, norm, ε and group)."""
    return pd.DataFrame(result.tables.get("curve") or [])


def labelled_curve(result: FamilyResult) -> pd.DataFrame:
    """:func:`curve_frame` with an ``attack_norm`` column naming each curve (attack, norm
    and, for attacks with one, direction), the page's choice of curve."""
    curve = curve_frame(result)
    if curve.empty or "epsilon" not in curve:
        return curve
    curve["attack_norm"] = curve["attack"].astype(str) + " · " + curve["norm"].astype(str)
    if "direction" in curve:
        curve["attack_norm"] += " · " + curve["direction"].astype(str).str.replace("_", " ")
    return curve


def default_epsilon(result: FamilyResult, epsilons: list[float]) -> float:
    """Where the ε slider starts: the smallest budget within which a saved example breaks
    the model, else the middle of the sweep."""
    found = [float(r["epsilon"]) for r in result.tables.get("examples") or []]
    if found:
        reachable = [e for e in epsilons if e >= min(found) - 1e-12]
        if reachable:
            return reachable[0]
    return epsilons[len(epsilons) // 2]


def examples_within(result: FamilyResult, epsilon: float, attribute: str) -> pd.DataFrame:
    """The saved adversarial examples found within ``epsilon`` (an example found at a
    smaller budget also lies within a larger one), for ``attribute`` when it has any."""
    examples = pd.DataFrame(result.tables.get("examples") or [])
    if examples.empty:
        return examples
    if "example" not in examples:
        examples["example"] = range(len(examples))
    within = examples[examples["epsilon"] <= epsilon + 1e-12]
    if attribute != OVERALL and (within["attribute"] == attribute).any():
        within = within[within["attribute"] == attribute]
    return within.sort_values("epsilon", ascending=False, kind="stable")


def examples_result(result: FamilyResult, examples: pd.DataFrame) -> FamilyResult:
    """The robustness result cut to some of its saved examples, for the view's own
    drawing of them (original · adversarial · perturbation)."""
    keep = examples["example"].astype(int).to_numpy()
    arrays = {k: np.asarray(v)[keep] for k, v in result.arrays.items() if k.startswith("examples_")}
    return FamilyResult(result.family, arrays=arrays)


def example_lines(examples: pd.DataFrame) -> list[str]:
    """One sentence per example: who it is, and the prediction before and after."""
    lines = []
    for _, row in examples.iterrows():
        if "before" in row:
            outcome = f"label {row.get('label')}: predicted {row['before']} → {row.get('after')}"
        else:  # an autoencoder: its anomaly score against the threshold
            outcome = (
                f"anomaly score {float(row['score_before']):.4g} → "
                f"{float(row['score_after']):.4g} (threshold {float(row['threshold']):.4g})"
            )
        text = (
            f"Sample {row.get('sample_id')} ({row.get('attribute')} = {row.get('group')}), "
            f"{outcome} under {row.get('attack')} at ε = {float(row['epsilon']):.4g} "
            f"({row.get('norm')})"
        )
        if isinstance(row.get("changes"), str) and row["changes"]:
            text += f"; changed {row['changes']}"
        lines.append(text + ".")
    return lines


def render() -> None:
    _ref, bundle, result, section = family_on_screen("robustness", "Robustness")
    curve = state.view(bundle, "robustness.curve", (), lambda: labelled_curve(result))
    if curve.empty or "epsilon" not in curve:
        render_section(section, prefix="robustness")
        return
    value = "accuracy" if "accuracy" in curve else "success_rate"  # autoencoders: evasion
    left, right = st.columns(2)
    attacks = list(dict.fromkeys(curve["attack_norm"]))
    words = [i for i, a in enumerate(attacks) if a.startswith("word substitution")]
    attack = left.selectbox(
        "Attack and norm",
        attacks,
        index=words[0] if words else 0,  # text opens on what a reader can read: words
        key=widget_key(ATTACK_KEY),
    )
    attributes = list(dict.fromkeys(curve["attribute"].astype(str)))
    attributes = [a for a in attributes if a != OVERALL]
    attribute = right.selectbox(
        "Groups of",
        [OVERALL, *attributes],
        index=1 if attributes else 0,
        key=widget_key(ATTRIBUTE_KEY),
    )
    chosen = curve[curve["attack_norm"] == attack]
    st.subheader("Accuracy against ε" if value == "accuracy" else "Attack success against ε")
    figure = state.view(
        bundle,
        "robustness.curve-figure",
        (attack, attribute),
        lambda: inert_once(curve_figure(chosen, attribute)),
    )
    show_figure(figure, key="robustness-curve")
    epsilons = sorted(float(e) for e in chosen["epsilon"].unique())
    epsilon = st.select_slider(
        "ε",
        options=epsilons,
        value=default_epsilon(result, epsilons),
        format_func=lambda e: f"{float(e):.4g}",
        key=widget_key(EPSILON_KEY),
    )
    at = chosen[np.isclose(chosen["epsilon"], epsilon)]
    shown = at[(at["attribute"] == OVERALL) | (at["attribute"] == attribute)]
    cols = st.columns(min(4, max(1, len(shown))))
    for i, (_, row) in enumerate(shown.iterrows()):
        name = OVERALL if row["attribute"] == OVERALL else str(row["group"])
        interval = f"{row['ci_low']:.3f}–{row['ci_high']:.3f}" if "ci_low" in row else "no interval"
        cols[i % len(cols)].metric(  # labels render Markdown: a group name is escaped
            md_escape(name),
            f"{row[value]:.3f}",
            help=md_escape(f"{value}; n = {row.get('n')}; interval {interval}"),
        )
    st.subheader(f"Adversarial examples within ε = {epsilon:.4g}")
    examples = examples_within(result, epsilon, attribute).head(MAX_EXAMPLES)
    if examples.empty:
        st.info("No saved adversarial example breaks the model within this ε.")
    else:
        for line, (_, row) in zip(example_lines(examples), examples.iterrows(), strict=True):
            st.markdown("- " + md_escape(line))
            if isinstance(row.get("text_before"), str):  # the whole text, before and after
                st.text(f"before: {row['text_before']}\nafter:  {row.get('text_after', '')}")
        pictures = state.view(
            bundle,
            "robustness.examples-figure",
            (epsilon, attribute),
            lambda: inert_once(examples_figure(bundle, examples_result(result, examples))),
        )
        if pictures is not None:
            show_figure(pictures, key="robustness-examples")
            st.caption("Each row: original · adversarial · the perturbation amplified.")
        show_frame(
            examples.drop(columns=[c for c in examples if c.endswith("_index")]),
            key="robustness-examples-table",
        )
    st.subheader("Everything the robustness audit found")
    render_section(section, prefix="robustness")


if __name__ == "__main__":
    render()
