"""Drawing views: text from a bundle is shown as written, every view type is drawn."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from deepaudit.dashboard.render import md_escape, severity_label


def test_markdown_and_directives_are_escaped():
    text = "**bold** <script>alert(1)</script> :red[x] $x$ [link](http://e.x) #h _i_ _www.e.x"
    escaped = md_escape(text)
    for mark in ("*", "<", ">", ":", "$", "[", "]", "(", ")", "#", "_"):
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == mark)
    # it reads as written: only backslashes and invisible word joiners (after "://") added
    assert escaped.replace("\\", "").replace("\u2060", "") == text.replace("\\", "")
    assert "://" not in escaped.replace("\\", "")  # a bare URL would autolink
    assert "www." not in escaped.replace("\\", "")  # nor would www. (a joiner before the dot)


def test_severity_labels():
    assert severity_label("fail") == "fail"
    assert severity_label("warn", 3) == "warn ×3"
    assert severity_label(None) == "not run"


def _section_script():
    import pandas as pd
    import plotly.graph_objects as go

    from deepaudit.dashboard.render import render_section
    from deepaudit.reports.views import FigureView, Section, TableView, TextView

    section = Section(
        "demo",
        "Demo",
        [
            TableView("t", "A *table*", pd.DataFrame({"a": [1, "x"], "b": [[1, 2], None]}), "cap"),
            FigureView("f", "A figure", go.Figure(go.Bar(x=[1], y=[2]))),
            TextView("n", "Note", "**not bold** <b>not html</b>"),
        ],
        cost={"seconds": 1.5, "model_evaluations": 1200},
    )
    render_section(section, prefix="p", skip=["nothing"])


def test_a_section_draws_each_view_type():
    at = AppTest.from_function(_section_script).run()
    assert not at.exception
    assert at.markdown[0].value == "**A \\*table\\***"
    frame = at.dataframe[0].value
    assert frame["a"].tolist() == ["1", "x"]  # mixed types become text for Arrow
    assert [c.key for c in at.get("plotly_chart")] == ["p-demo-f"]
    assert at.text[0].value == "**not bold** <b>not html</b>"  # plain text, as written
    assert at.caption[-1].value == "Demo: 1.5 s, 1,200 model evaluations."
