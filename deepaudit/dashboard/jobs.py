"""Audits started from the Run page, in a thread of their own.

A Streamlit script stops when its user leaves the page; an audit running in it would
stop too and leave no report. An :class:`AuditJob` runs in its own thread and writes
the bundle and the HTML report whatever the page does; the page only reads its
progress (the family running, how many are done) and, when it comes back, its outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deepaudit.dashboard.runs import audit_reference_model, write_html_report

#: Every job this server started, by output folder (module state outlives page switches).
JOBS: dict[str, AuditJob] = {}


@dataclass
class AuditJob:
    """One audit of a reference model into ``out``, and where it stands."""

    model: str
    out: str
    families: tuple[str, ...]
    seed: int = 0
    max_samples: int | None = None
    done: int = 0
    stage: str = "loading the model"
    error: str | None = None
    seconds: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def total(self) -> int:
        """Steps: each family, then the report."""
        return len(self.families) + 1

    @property
    def fraction(self) -> float:
        return 1.0 if self.finished.is_set() else self.done / self.total

    def _progress(self, done: int, total: int, family: str) -> None:
        self.done = done
        self.stage = f"{family} ({done + 1} of {total} families)" if family else "saving"

    def run(self) -> None:
        started = time.perf_counter()
        try:
            audit_reference_model(
                self.model,
                Path(self.out),
                families=list(self.families),
                seed=self.seed,
                max_samples=self.max_samples,
                write_html=False,
                on_progress=self._progress,
            )
            self.done, self.stage = len(self.families), "writing the HTML report"
            write_html_report(Path(self.out))
            self.stage = "done"
        except Exception as exc:  # shown on the page: the thread has no one else to tell
            self.error = f"{type(exc).__name__}: {exc}"
            self.stage = "failed"
        finally:
            self.seconds = time.perf_counter() - started
            self.finished.set()


def start_job(
    model: str,
    out: str,
    families: Sequence[str],
    *,
    seed: int = 0,
    max_samples: int | None = None,
) -> AuditJob:
    """Start auditing ``model`` into ``out`` in a thread; the running job of ``out`` when
    there is one."""
    running = JOBS.get(out)
    if running is not None and not running.finished.is_set():
        return running
    job = AuditJob(model, out, tuple(families), seed=seed, max_samples=max_samples)
    JOBS[out] = job
    threading.Thread(target=job.run, name=f"deepaudit-{model}", daemon=False).start()
    return job
