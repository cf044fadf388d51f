"""Run: audit a reference model from the page, with progress; it is saved as a CLI run is
(``bundle.json``, ``arrays.npz`` and ``report.html`` in a folder under the runs folder)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.jobs import JOBS, AuditJob, start_job
from deepaudit.dashboard.render import md_escape
from deepaudit.dashboard.runs import DEMO_MAX_SAMPLES, applicable_families

MODEL_KEY = "run.model"
FAMILIES_KEY = "run.families"
SAMPLES_KEY = "run.max_samples"
SEED_KEY = "run.seed"
OUT_KEY = "run.out"
START_KEY = "run.start"
LAST_KEY = "run.last"
JOB_KEY = "run.job"


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
    if st.button("Start the audit", type="primary", key=START_KEY, disabled=not chosen):
        job = start_job(model, out, chosen, seed=int(seed), max_samples=int(max_samples))
        st.session_state[JOB_KEY] = job.out
    job = JOBS.get(st.session_state.get(JOB_KEY, ""))
    if job is not None:
        follow(job)


def follow(job: AuditJob) -> None:
    """Draw the job's progress (the family running, then the report) until it ends. The
    job runs in its own thread: leaving the page stops this drawing, not the audit, and
    coming back shows where it is."""
    st.caption(
        f"Families: {', '.join(job.families)}; at most {job.max_samples or 0:,} samples; "
        f"seed {job.seed}. The audit runs on if you leave this page; its report is written "
        "when it ends."
    )
    bar = st.progress(job.fraction, text=f"Auditing {job.model}: {job.stage}")
    while not job.finished.wait(timeout=0.5):
        bar.progress(job.fraction, text=f"Auditing {job.model}: {job.stage}")
    del st.session_state[JOB_KEY]
    if job.error is not None:
        bar.progress(1.0, text="The audit failed")
        st.error(md_escape(job.error))
        return
    bar.progress(1.0, text=f"Done in {job.seconds:.1f} s.")
    st.session_state[LAST_KEY] = {"model": job.model, "out": job.out, "seconds": job.seconds}
    state.add_run(job.out)
    st.rerun()


if __name__ == "__main__":
    render()
