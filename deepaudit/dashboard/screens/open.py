"""Open: view a saved run uploaded as a zip, or a run folder on this machine.

The upload is unpacked by :func:`~deepaudit.dashboard.archive.extract_run_zip` (only
``bundle.json`` and ``arrays.npz``, paths and sizes checked) and read as JSON and
``np.load(allow_pickle=False)``: nothing uploaded is unpickled or executed.
"""

from __future__ import annotations

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


def unpack_upload(name: str, data: bytes) -> Path:
    """Unpack an uploaded run into a new temporary folder named after the upload, check
    that it loads, and return the folder (removed again if anything is wrong)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem)[:64].strip(".") or "upload"
    root = Path(tempfile.mkdtemp(prefix="deepaudit-upload-"))
    try:
        folder = extract_run_zip(data, root / stem, name=name)
        AuditBundle.load(folder)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
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
            st.error(str(exc))
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
            st.error(str(exc))
        else:
            state.add_run(folder)
            st.session_state[MESSAGE_KEY] = (
                f"Opened {md_escape(folder)}: it is now on screen (see the sidebar)."
            )
            st.rerun()


if __name__ == "__main__":
    render()
