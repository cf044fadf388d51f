"""What the dashboard's browser tests share: ``deepaudit dashboard`` served on a free port,
and a page that is fully drawn (its script run ended, every chart and table in place)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: What an exception looks like on a streamlit page.
EXCEPTION_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception): ")

#: True once the page's script has run and every chart and table it sent is drawn
#: (streamlit shows a skeleton while an element's code is still loading).
DRAWN = """() => document.querySelector("[data-testid=stMain] h1") !== null
    && document.querySelector("[data-testid=stApp][data-test-script-state=notRunning]") !== null
    && document.querySelector("[data-testid=stSkeleton]") === null
    && Array.from(document.querySelectorAll("[data-testid=stPlotlyChart]"))
        .every(c => c.querySelector(".main-svg") !== null)"""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deepaudit_command() -> list[str]:
    """The ``deepaudit`` entry point of this environment."""
    script = Path(sys.executable).with_name("deepaudit")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from deepaudit.cli import app; app()"]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    """Return once streamlit answers its health check; fail if the server exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the dashboard exited early: {out}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the dashboard did not answer in time")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server (SIGKILL if it lingers) and close its output."""
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    if process.stdout:
        process.stdout.close()


def start_dashboard(run_dirs: Sequence[Path], port: int) -> subprocess.Popen:
    """``deepaudit dashboard RUN_DIR ... --port PORT``, its output piped (not yet healthy)."""
    return subprocess.Popen(
        [*deepaudit_command(), "dashboard", *map(str, run_dirs), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"COLUMNS": "200"},
    )


@contextmanager
def dashboard(run_dirs: Sequence[Path]) -> Iterator[str]:
    """The dashboard on ``run_dirs``, served until the block ends; yields its address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_dashboard(run_dirs, port)
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        stop(process)


def wait_drawn(page, timeout: float = 60_000) -> None:
    """Wait until the page's script has run and all it drew is on screen."""
    page.wait_for_function(DRAWN, timeout=timeout)


def assert_no_exception(page) -> None:
    """No streamlit exception box, and no traceback text, on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.inner_text("body")
    assert not EXCEPTION_TEXT.search(text), EXCEPTION_TEXT.search(text).group(0)
