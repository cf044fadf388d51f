"""Run: audit a reference model from the page, with progress; it is saved as a CLI run is
(``bundle.json``, ``arrays.npz`` and ``report.html`` in a folder under the runs folder)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.render import md_escape
from deepaudit.dashboard.runs import (
    DEMO_MAX_SAMPLES,
    applicable_families,
    audit_reference_model,
    write_html_report,
)
from deepaudit.errors import DeepAuditError

MODEL_KEY = "run.model"
FAMILIES_KEY = "run.families"
SAMPLES_KEY = "run.max_samples"
SEED_KEY = "run.seed"
OUT_KEY = "run.out"
START_KEY = "run.start"
LAST_KEY = "run.last"


@st.cache_resource(show_spinner=False)
def _reference_models() -> list[str]:
    from deepaudit.models import list_models

    return list_models()


@st.cache_resource(show_spinner="Reading the model…")
def _families_of(name: str) -> list[str]:
    """The audit families that apply to a reference model (read from its Target)."""
    from deepaudit.models import load_model

    return applicable_families(load_model(name, device="cpu"))


def default_out(model: str) -> str:
    """A new folder beside the reference runs: ``runs/dashboard/<model>-<time>``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return str(state.runs_root().parent / "dashboard" / f"{model}-{stamp}")


def render() -> None:
    st.title("Run an audit")
    last = st.session_state.get(LAST_KEY)
    if last:
        st.success(
            f"Saved the audit of {md_escape(last['model'])} to {md_escape(last['out'])} in "
            f"{last['seconds']:.1f} s; it is now on screen (see the sidebar)."
        )
        st.page_link("screens/findings.py", label="See its findings", icon="➡️")
    models = _reference_models()
    model = st.selectbox("Reference model", models, key=MODEL_KEY)
    families = _families_of(model)
    chosen = st.multiselect("Audit families", families, default=families, key=FAMILIES_KEY)
    cols = st.columns(2)
    max_samples = cols[0].number_input(
        "Samples (at most)", min_value=10, value=DEMO_MAX_SAMPLES, step=100, key=SAMPLES_KEY
    )
    seed = cols[1].number_input("Seed", min_value=0, value=0, step=1, key=SEED_KEY)
    out = st.text_input("Save to", value=default_out(model), key=f"{OUT_KEY}.{model}")
    if not st.button("Start the audit", type="primary", key=START_KEY, disabled=not chosen):
        return
    bar = st.progress(0.0, text=f"Loading {model}…")
    started = time.perf_counter()
    with st.status(f"Auditing {md_escape(model)}", expanded=True) as status:
        try:
            st.write(
                f"Families: {', '.join(chosen)}; at most {int(max_samples):,} samples; seed {int(seed)}."
            )
            bar.progress(0.2, text=f"Running {len(chosen)} audit families on {model}…")
            audit_reference_model(
                model,
                Path(out),
                families=chosen,
                seed=int(seed),
                max_samples=int(max_samples),
                write_html=False,
            )
            bar.progress(0.8, text="Writing the HTML report…")
            write_html_report(Path(out))
        except DeepAuditError as exc:
            status.update(label="The audit failed", state="error")
            st.error(str(exc))
            return
        bar.progress(1.0, text=f"Done in {time.perf_counter() - started:.1f} s.")
        status.update(label=f"Saved to {out}", state="complete", expanded=False)
    st.session_state[LAST_KEY] = {
        "model": model,
        "out": out,
        "seconds": time.perf_counter() - started,
    }
    state.add_run(out)
    st.rerun()


if __name__ == "__main__":
    render()
