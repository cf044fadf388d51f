"""Open: view a saved run uploaded as a zip, or a run folder on this machine.

The upload is unpacked by :func:`~deepaudit.dashboard.archive.extract_run_zip` (only
``bundle.json`` and ``arrays.npz``, paths and sizes checked) and read as JSON and
``np.load(allow_pickle=False)``: nothing uploaded is unpickled or executed.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path

import streamlit as st

from deepaudit.dashboard import state
from deepaudit.dashboard.archive import extract_run_zip
from deepaudit.dashboard.render import md_escape
from deepaudit.errors import DeepAuditError
from deepaudit.results import AuditBundle

UPLOAD_KEY = "open.upload"
PATH_KEY = "open.path"
PATH_BUTTON_KEY = "open.path_button"
OPENED_KEY = "open.opened"  # upload file id -> folder it was unpacked into
MESSAGE_KEY = "open.message"


#: Upload folders this server made; removed when it exits.
UPLOADS: list[Path] = []
#: An upload folder older than this, left by a server that did not exit cleanly, goes.
STALE_UPLOAD_SECONDS = 24 * 3600
UPLOAD_PREFIX = "deepaudit-upload-"


def remove_uploads(folders: list[Path] | None = None) -> None:
    """Remove this server's upload folders (at exit)."""
    for folder in UPLOADS if folders is None else folders:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_uploads(now: float | None = None) -> list[Path]:
    """Remove upload folders older than :data:`STALE_UPLOAD_SECONDS` not made by this
    server (another that crashed left them); return what was removed."""
    import time

    now = time.time() if now is None else now
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(UPLOAD_PREFIX + "*"):
        try:
            old = now - folder.stat().st_mtime > STALE_UPLOAD_SECONDS
        except OSError:
            continue
        if old and folder.is_dir() and folder not in UPLOADS:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


atexit.register(remove_uploads)


def unpack_upload(name: str, data: bytes) -> Path:
    """Unpack an uploaded run into a new temporary folder named after the upload, check
    that it loads, and return the folder (removed again if anything is wrong)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem)[:64].strip(".") or "upload"
    remove_stale_uploads()
    root = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
    UPLOADS.append(root)
    try:
        folder = extract_run_zip(data, root / stem, name=name)
        AuditBundle.load(folder)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        UPLOADS.remove(root)
        raise
    return folder


def render() -> None:
    st.title("Open a saved run")
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(message)
    st.markdown(
        "Upload a run folder zipped (its `bundle.json` and `arrays.npz`, as the sidebar's "
        "*Download the run* button makes it). Only those two files are read, as JSON and as "
        "plain numeric arrays: nothing uploaded is unpickled or executed."
    )
    upload = st.file_uploader("A run (zip)", type=["zip"], key=UPLOAD_KEY)
    opened: dict = st.session_state.setdefault(OPENED_KEY, {})
    if upload is not None and upload.file_id not in opened:
        try:
            folder = unpack_upload(upload.name, upload.getvalue())
        except DeepAuditError as exc:
            st.error(md_escape(exc))
        else:
            opened[upload.file_id] = str(folder)
            state.add_run(folder)
            st.session_state[MESSAGE_KEY] = (
                f"Opened {md_escape(upload.name)}: it is now on screen (see the sidebar)."
            )
            st.rerun()
    st.divider()
    path = st.text_input("Or a run folder on this machine", key=PATH_KEY)
    if st.button("Open the folder", key=PATH_BUTTON_KEY, disabled=not path):
        folder = Path(path).expanduser()
        try:
            AuditBundle.load(folder)
        except DeepAuditError as exc:
            st.error(md_escape(exc))
        else:
            state.add_run(folder)
            st.session_state[MESSAGE_KEY] = (
                f"Opened {md_escape(folder)}: it is now on screen (see the sidebar)."
            )
            st.rerun()


if __name__ == "__main__":
    render()
