"""Replacing a saved run so that a complete run loads at every instant.

A run folder holds ``bundle.json`` (which records the sha256 of ``arrays.npz``) and
``arrays.npz``, and maybe the files made from them (``report.html``, ``findings.json``,
``findings.md``). Overwriting it takes two renames, and a process killed between them
would leave a bundle.json that does not match its arrays. So before the renames the old
pair is hard-linked into a hidden ``.NAME.previous`` folder beside the run, made whole
under a temporary name first; it is removed once the new pair is in place.

A load that finds the pair mismatched reads ``.NAME.previous`` (the old run, still
complete); the next save rolls the folder back from it before it starts. Readers never
change the folder, so a reader cannot race a writer. This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

BUNDLE_FILE = "bundle.json"
ARRAYS_FILE = "arrays.npz"
#: Files made from a bundle: each records the sha256 of the bundle.json it was made from.
COMPANION_FILES = ("report.html", "findings.json", "findings.md")
#: How they record it: ``"bundle_sha256": "…"`` (JSON), ``<meta name="deepaudit:bundle-sha256"
#: content="…">`` (HTML), ``<!-- deepaudit bundle-sha256: … -->`` (Markdown).
_RECORDED_SHA = re.compile(rb"bundle[-_]sha256\W+(?:content=\W*)?([0-9a-f]{64})")


def previous_folder(path: Path) -> Path:
    """Where the old pair waits while ``path`` is overwritten."""
    return path.parent / f".{path.name}.previous"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_whole(folder: Path) -> bool:
    """True when ``folder`` holds a bundle.json whose recorded arrays sha256 is that of
    the arrays.npz beside it."""
    try:
        document = json.loads((folder / BUNDLE_FILE).read_text(encoding="utf-8"))
        return isinstance(document, dict) and document.get("arrays_sha256") == sha256_file(
            folder / ARRAYS_FILE
        )
    except (OSError, ValueError):
        return False


def readable_folder(path: Path) -> Path:
    """The folder a load of ``path`` reads: ``path`` itself, or the previous run when an
    overwrite of ``path`` was cut between its renames."""
    previous = previous_folder(path)
    if previous.is_dir() and not is_whole(path) and is_whole(previous):
        return previous
    return path


def recover(path: Path) -> None:
    """Finish an interrupted overwrite of ``path``: keep the new pair when it is whole,
    else put the previous one back; then remove the previous folder."""
    previous = previous_folder(path)
    if not previous.is_dir():
        return
    if not is_whole(path) and is_whole(previous):
        for name in (ARRAYS_FILE, BUNDLE_FILE):
            os.replace(previous / name, path / name)
    shutil.rmtree(previous, ignore_errors=True)


def bundle_sha256(folder: Path) -> str | None:
    """The sha256 of ``folder``'s bundle.json, which names the arrays too."""
    try:
        return sha256_file(folder / BUNDLE_FILE)
    except OSError:
        return None


def recorded_bundle_sha256(companion: Path) -> str | None:
    """The bundle sha256 a companion file says it was made from (None: it says none)."""
    try:
        with open(companion, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    match = _RECORDED_SHA.search(head)
    return match.group(1).decode() if match else None


def is_current(companion: Path, folder: Path) -> bool:
    """True when ``companion`` was made from the bundle now in ``folder``."""
    recorded = recorded_bundle_sha256(companion)
    return recorded is not None and recorded == bundle_sha256(folder)


def replace_pair(staging: Path, path: Path) -> None:
    """Move the whole pair in ``staging`` over the run in ``path`` (an existing folder),
    so that a complete run loads from ``path`` at every instant."""
    recover(path)
    previous = previous_folder(path)
    keep_previous = is_whole(path)
    if keep_previous:
        partial = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        for name in (ARRAYS_FILE, BUNDLE_FILE):
            _link_or_copy(path / name, partial / name)
        os.rename(partial, previous)
    new_sha = sha256_file(staging / BUNDLE_FILE)
    for name in COMPANION_FILES:  # made from the old bundle: they go before it does
        companion = path / name
        if companion.is_file() and recorded_bundle_sha256(companion) != new_sha:
            companion.unlink()
    os.replace(staging / ARRAYS_FILE, path / ARRAYS_FILE)
    os.replace(staging / BUNDLE_FILE, path / BUNDLE_FILE)
    if keep_previous:
        shutil.rmtree(previous)


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
