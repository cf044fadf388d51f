"""The family pages: their widgets, and numbers equal to the audit's own functions and views."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

import deepaudit as da
from deepaudit.audit.fairness import disparities, group_metrics, groupings, live_inputs
from deepaudit.dashboard.screens.fairness import threshold_range
from deepaudit.reports.views import family_section
from deepaudit.reports.views.robustness import curve_figure
from tests.dashboard.conftest import on_page


def _frame(at, columns) -> pd.DataFrame:
    """The one table on the page with exactly these columns."""
    found = [d.value for d in at.dataframe if list(d.value.columns) == list(columns)]
    assert len(found) == 1, f"{len(found)} tables with columns {list(columns)}"
    return found[0]


def _chart_keys(at) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def test_fairness_page_controls(runs_root, run_paths):
    at = on_page(runs_root, "fairness", "tabular")
    result = da.load_bundle(run_paths["tabular"])["fairness"]
    assert at.selectbox(key="fairness.grouping|tabular").options == groupings(result)
    assert "selection_rate" in at.selectbox(key="fairness.metric|tabular").options
    slider = at.slider(key="fairness.threshold|tabular")
    assert (slider.min, slider.max, slider.value) == (0.0, 1.0, 0.5)
    assert threshold_range(result)[3] == 0.5  # the audit decided at 0.5 (threshold None)


@pytest.mark.parametrize("grouping", ["sex", "sex & age"])
def test_moving_the_threshold_shows_what_group_metrics_gives(runs_root, run_paths, grouping):
    at = on_page(runs_root, "fairness", "tabular")
    result = da.load_bundle(run_paths["tabular"])["fairness"]
    at.selectbox(key="fairness.grouping|tabular").set_value(grouping)
    at.selectbox(key="fairness.metric|tabular").set_value("tpr")
    at.slider(key="fairness.threshold|tabular").set_value(0.3).run()
    assert not at.exception
    expected = group_metrics(**live_inputs(result, grouping, threshold=0.3))
    shown = _frame(at, expected.columns)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, check_dtype=False)
    from deepaudit.dashboard.render import md_escape

    cards = {m.label: m.value for m in at.metric}
    labels = {
        row["group"]: md_escape(f"{row['group']} (n={int(row['count']):,})")
        for _, row in expected.iterrows()
    }
    for _, row in expected.iterrows():
        if labels[row["group"]] in cards:
            shown_value = cards[labels[row["group"]]]
            assert shown_value == ("—" if np.isnan(row["tpr"]) else f"{row['tpr']:.3f}")
    overall = f"overall (n={int(expected.loc[0, 'count']):,})"
    assert cards[overall] == f"{expected.loc[0, 'tpr']:.3f}"
    # the cards show the largest groups (at most 7), each with its n
    groups = expected[expected["group"] != "overall"]
    groups = groups.sort_values("count", ascending=False, kind="stable")
    assert set(cards) - {overall} == {labels[g] for g in groups["group"].head(7)}
    expected_disparities = disparities(expected)
    pd.testing.assert_frame_equal(
        _frame(at, expected_disparities.columns).reset_index(drop=True),
        expected_disparities,
        check_dtype=False,
    )
    at.slider(key="fairness.threshold|tabular").set_value(0.7).run()
    moved = group_metrics(**live_inputs(result, grouping, threshold=0.7))
    assert not moved["tpr"].equals(expected["tpr"])  # the slider really moved the numbers
    assert {m.label: m.value for m in at.metric}[overall] == f"{moved.loc[0, 'tpr']:.3f}"


def test_at_the_audits_threshold_the_live_table_is_the_audited_one(runs_root, run_paths):
    at = on_page(runs_root, "fairness", "tabular")
    bundle = da.load_bundle(run_paths["tabular"])
    audited = pd.DataFrame(bundle["fairness"].tables["group_metrics"])
    audited = audited[audited["grouping"] == "sex"].reset_index(drop=True)
    live = _frame(at, group_metrics(**live_inputs(bundle["fairness"], "sex")).columns)
    for column in ("group", "count", "selection_rate", "tpr", "accuracy"):
        assert live[column].tolist() == audited[column].tolist()


def test_fairness_page_shows_intersections_and_mitigation(runs_root, run_paths):
    at = on_page(runs_root, "fairness", "tabular")
    at.selectbox(key="fairness.grouping|tabular").set_value("sex & age").run()
    assert "fairness-live-heat" in _chart_keys(at)
    headings = [h.value for h in at.subheader]
    assert "Mitigation: before and after" in headings
    section = family_section(da.load_bundle(run_paths["tabular"]), "fairness")
    mitigation = section.item("mitigation").frame
    assert any(
        list(d.value.columns) == list(mitigation.columns) and len(d.value) == len(mitigation)
        for d in at.dataframe
    )
    # the audited tables are cut to the chosen attributes
    groups = _frame(at, section.item("group_metrics").frame.columns)
    assert set(groups["grouping"]) == {"sex & age"}


def test_a_run_without_fairness_says_which_runs_have_it(runs_root):
    at = on_page(runs_root, "fairness", "image")
    assert "has no fairness results" in at.info[0].value
    assert "tabular" in at.info[0].value


def test_generative_page(runs_root, run_paths):
    at = on_page(runs_root, "generative", "generator")
    result = da.load_bundle(run_paths["generator"])["generative"]
    headings = [h.value for h in at.subheader]
    assert headings[:3] == ["Generated samples", "Coverage", "Nearest training neighbours"]
    n = len(result.arrays["neighbour_generated"])
    rank = at.slider(key="generative.rank|generator")
    assert (rank.min, rank.max, rank.value) == (1, n, 1)
    rank.set_value(n).run()
    assert not at.exception
    row = _frame(at, ["", "value"]).set_index("")["value"]
    expected = result.tables["nearest_neighbours"][n - 1]
    assert int(row["generated_id"]) == expected["generated_id"]
    assert float(row["distance"]) == pytest.approx(expected["distance"])
    assert at.slider(key="generative.columns|generator").value == 8


def test_generative_page_of_an_autoencoder_draws_its_view(runs_root, run_paths):
    at = on_page(runs_root, "generative", "autoencoder")
    section = family_section(da.load_bundle(run_paths["autoencoder"]), "generative")
    figures = [i for i in section.items if type(i).__name__ == "FigureView"]
    assert len(at.get("plotly_chart")) == len(figures)


# -- explanations and robustness ----------------------------------------------------------


def _decode(values) -> np.ndarray:
    """A plotly trace array as sent to the browser (plain list or base64 ``bdata``)."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        if "shape" in values:
            array = array.reshape([int(n) for n in str(values["shape"]).split(",")])
        return array
    return np.asarray(values, dtype=object)


def _chart(at, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.key == key:
            return json.loads(chart.proto.spec)
    raise KeyError(key)


def test_explanations_page_controls(runs_root, run_paths):
    at = on_page(runs_root, "explanations", "tabular")
    result = da.load_bundle(run_paths["tabular"])["explain"]
    sample = at.selectbox(key="explain.sample|tabular")
    assert len(sample.options) == len(result.tables["samples"]) == len(result.arrays["inputs"])
    chosen = at.multiselect(key="explain.methods|tabular")
    assert chosen.value == ["integrated_gradients", "feature_ablation"]  # the audit's methods


def test_tabular_attributions_are_the_saved_ones(runs_root, run_paths):
    at = on_page(runs_root, "explanations", "tabular")
    result = da.load_bundle(run_paths["tabular"])["explain"]
    at.selectbox(key="explain.sample|tabular").set_value(2).run()
    assert not at.exception
    bars = _chart(at, "explain-attribution-1")["data"][0]  # feature_ablation, sample 2
    saved = result.arrays["attributions_feature_ablation"][2]
    np.testing.assert_allclose(np.sort(_decode(bars["x"])), np.sort(saved), rtol=1e-6)
    quality = {r["method"]: r for r in result.tables["quality"]}
    faithfulness = [m.value for m in at.metric if m.label == "faithfulness"]
    assert faithfulness == [
        f"{quality[m]['faithfulness']:.3f}" for m in ("integrated_gradients", "feature_ablation")
    ]
    proba = da.load_bundle(run_paths["tabular"])["overview"].arrays["proba"]
    row = int(result.arrays["sample_indices"][2])
    shown = _frame(at, ["class", "probability"])
    assert shown["probability"].max() == pytest.approx(proba[row].max())


def test_image_maps_are_the_explain_views_for_one_sample(runs_root, run_paths):
    at = on_page(runs_root, "explanations", "image")
    result = da.load_bundle(run_paths["image"])["explain"]
    at.selectbox(key="explain.sample|image").set_value(1).run()
    traces = _chart(at, "explain-attribution-0")["data"]
    assert [t["type"] for t in traces] == ["image", "heatmap", "heatmap"]  # input + 2 methods
    heat = _decode(traces[2]["customdata"]).astype(float)  # z is each map over its max
    expected = result.arrays["attributions_saliency"][1].sum(axis=0)
    np.testing.assert_allclose(heat, expected, rtol=1e-5)


def test_text_tokens_carry_the_saved_attributions(runs_root, run_paths):
    at = on_page(runs_root, "explanations", "text")
    result = da.load_bundle(run_paths["text"])["explain"]
    at.selectbox(key="explain.sample|text").set_value(3).run()
    trace = _chart(at, "explain-attribution-1")["data"][0]  # occlusion
    shown = _decode(trace["customdata"]).astype(float).ravel()
    saved = result.arrays["attributions_occlusion"][3].astype(float)
    np.testing.assert_allclose(shown, saved[: len(shown)], rtol=1e-5)
    assert at.text[0].value == " ".join(t for t in result.arrays["tokens"][3] if t)


def test_robustness_curve_is_the_views_and_epsilon_picks_examples(runs_root, run_paths):
    at = on_page(runs_root, "robustness", "tabular")
    result = da.load_bundle(run_paths["tabular"])["robustness"]
    curve = pd.DataFrame(result.tables["curve"])
    assert at.selectbox(key="robustness.attribute|tabular").value == "sex"
    pgd = curve[(curve["attack"] == "PGD") & (curve["norm"] == "Linf")]
    expected = curve_figure(pgd.assign(attack_norm="PGD · Linf"), "sex")
    traces = _chart(at, "robustness-curve")["data"]
    assert [t["name"] for t in traces] == [t.name for t in expected.data]
    for shown, trace in zip(traces, expected.data, strict=True):
        np.testing.assert_allclose(_decode(shown["y"]).astype(float), trace.y)
    largest = float(pgd["epsilon"].max())
    at.select_slider(key="robustness.epsilon|tabular").set_value(largest).run()
    assert not at.exception
    at_largest = pgd[np.isclose(pgd["epsilon"], largest)]
    cards = {m.label: m.value for m in at.metric}
    overall = at_largest[at_largest["attribute"] == "overall"]["accuracy"].iloc[0]
    assert cards["overall"] == f"{overall:.3f}"
    for _, row in at_largest[at_largest["attribute"] == "sex"].iterrows():
        assert cards[row["group"]] == f"{row['accuracy']:.3f}"
    examples = pd.DataFrame(result.tables["examples"])
    within = examples[(examples["epsilon"] <= largest) & (examples["attribute"] == "sex")]
    lines = [m.value for m in at.markdown if m.value.startswith("- Sample")]
    assert len(lines) == min(len(within), 6) > 0


def test_robustness_image_examples_are_drawn_by_the_view(runs_root, run_paths):
    at = on_page(runs_root, "robustness", "image")
    result = da.load_bundle(run_paths["image"])["robustness"]
    found = min(row["epsilon"] for row in result.tables["examples"])
    epsilons = sorted({row["epsilon"] for row in result.tables["curve"]})
    start = at.select_slider(key="robustness.epsilon|image")
    assert float(start.value) == min(e for e in epsilons if e >= found)  # the first that breaks
    assert "robustness-examples" in _chart_keys(at)
    trace = _chart(at, "robustness-examples")["data"][0]
    assert trace["type"] == "image"
    at.select_slider(key="robustness.epsilon|image").set_value(epsilons[0]).run()
    assert not at.exception
    if epsilons[0] < found:
        assert "robustness-examples" not in _chart_keys(at)
        assert at.info[0].value == "No saved adversarial example breaks the model within this ε."


def test_a_streamed_run_opens_and_says_its_slider_reads_a_sample(tmp_path):
    from tests.audit import scale_toys as toys

    frame = toys.table(n=4000, seed=2)
    target = toys.from_parquet(frame, toys.model(), tmp_path, sample_size=500)
    target.name = "streamed"
    options = {
        "fairness": {"counterfactual": False, "mitigation": False, "n_bootstrap": 50},
        "explain": {"methods": ["integrated_gradients"], "every_row": True, "progress": False},
    }
    config = da.AuditConfig(
        families=["overview", "explain", "fairness"],
        options=options,
        output_dir=tmp_path / "runs" / "streamed",
        progress=False,
    )
    bundle = da.run_audit(target, config)
    assert len(bundle["fairness"].arrays["labels"]) == 500  # bounded, whatever the rows
    at = on_page(tmp_path / "runs", "fairness", "streamed")
    captions = " ".join(c.value for c in at.caption)
    assert "a seeded random sample of the 4,000 rows" in captions
    live = group_metrics(**live_inputs(bundle["fairness"], "sex"))
    assert int(live.loc[0, "count"]) == 500
    at = on_page(tmp_path / "runs", "explanations", "streamed")
    assert not at.exception


def test_the_intersection_heat_map_shows_counts_and_greys_small_cells():
    from deepaudit.dashboard.screens.fairness import intersection_figure

    frame = pd.DataFrame(
        {
            "group": ["overall", "f & 0", "f & 1", "m & 0", "m & 1"],
            "count": [100, 40, 5, 30, 25],
            "tpr": [0.5, 0.6, 0.9, 0.4, 0.45],
        }
    )
    trace = intersection_figure(frame, "tpr", "sex & age", min_size=10).data[0]
    z = np.asarray(trace.z, dtype=float)
    assert list(trace.y) == ["f", "m"] and list(trace.x) == ["0", "1"]
    assert np.isnan(z[0, 1]) and z[0, 0] == 0.6  # 5 samples: greyed, no colour
    assert trace.text[0][1] == "n=5 (too few)" and trace.text[1][1] == "0.450<br>n=25"


def test_text_robustness_opens_on_word_substitution_with_whole_texts(runs_root, run_paths):
    at = on_page(runs_root, "robustness", "text")
    assert not at.exception
    result = da.load_bundle(run_paths["text"])["robustness"]
    attacks = {r["attack"] for r in result.tables["curve"]}
    assert "word substitution" in attacks
    assert at.selectbox(key="robustness.attack|text").value.startswith("word substitution")
    examples = [e for e in result.tables.get("examples", []) if "text_before" in e]
    shown = [t.value for t in at.text]
    for e in examples[: len([s for s in shown if s.startswith("before:")])]:
        assert f"before: {e['text_before']}\nafter:  {e['text_after']}" in shown
