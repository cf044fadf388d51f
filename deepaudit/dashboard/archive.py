"""Uploaded runs: a saved run folder zipped, unpacked safely, never executed.

An upload is untrusted. The archive is refused whole when any member has an absolute
path, a ``..`` part, is a link or is encrypted, when it unpacks beyond a size limit, or
when it does not hold exactly one run. Only ``bundle.json`` and ``arrays.npz`` are
written, byte-counted as they stream, and the bundle is read by
:meth:`~deepaudit.results.AuditBundle.load` (JSON, and ``np.load(allow_pickle=False)``):
nothing uploaded is unpickled or run.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from deepaudit.errors import BundleError
from deepaudit.results import ARRAYS_FILE, BUNDLE_FILE

#: The most an uploaded run may unpack to (bundle.json and arrays.npz together).
MAX_EXTRACTED_BYTES = 1 << 30
#: The most members an archive may list (a run has two or three).
MAX_MEMBERS = 64

NOT_A_ZIP_MESSAGE = "The uploaded file {name} is not a zip archive."
UNSAFE_MEMBER_MESSAGE = (
    "The uploaded archive {name} holds an unsafe member {member!r} ({why}); nothing was extracted."
)
TOO_MANY_MEMBERS_MESSAGE = (
    "The uploaded archive {name} lists {count} members; a run has at most {limit}."
)
NO_RUN_MESSAGE = (
    "The uploaded archive {name} holds no run: expected bundle.json and arrays.npz in one folder."
)
SEVERAL_RUNS_MESSAGE = (
    "The uploaded archive {name} holds {count} runs ({folders}); upload one run per archive."
)
TOO_LARGE_MESSAGE = (
    "The uploaded archive {name} unpacks to more than {limit_mb:.0f} MB; nothing was kept."
)

_RUN_FILES = (BUNDLE_FILE, ARRAYS_FILE)


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a member may not be in an uploaded archive, or ``None`` when it is harmless."""
    name = info.filename
    if "\x00" in name:
        return "a NUL byte in its name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' part"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def extract_run_zip(
    source: bytes | BinaryIO | str | os.PathLike,
    dest: str | os.PathLike,
    *,
    name: str = "upload",
    max_bytes: int = MAX_EXTRACTED_BYTES,
) -> Path:
    """Unpack the one run in a zip archive into the folder ``dest`` and return ``dest``.

    ``bundle.json`` and ``arrays.npz`` may sit at the archive's top level or in one folder
    (as ``zip -r cnn.zip runs/demo/cnn`` makes them). Anything else in the archive (a
    ``report.html``) is ignored. ``name`` is the upload's name, for messages.

    Raises
    ------
    BundleError
        When the archive is not a zip, is unsafe, is too large, or does not hold one run.
    """
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(NOT_A_ZIP_MESSAGE.format(name=name)) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise BundleError(
                TOO_MANY_MEMBERS_MESSAGE.format(name=name, count=len(members), limit=MAX_MEMBERS)
            )
        for info in members:
            why = _unsafe_reason(info)
            if why is not None:
                raise BundleError(
                    UNSAFE_MEMBER_MESSAGE.format(name=name, member=info.filename, why=why)
                )
        chosen = _run_members(members, name)
        if sum(info.file_size for info in chosen) > max_bytes:
            raise BundleError(TOO_LARGE_MESSAGE.format(name=name, limit_mb=max_bytes / 2**20))
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        budget = max_bytes
        too_large = TOO_LARGE_MESSAGE.format(name=name, limit_mb=max_bytes / 2**20)
        try:
            for info in chosen:
                out = dest / PurePosixPath(info.filename).name
                budget = _copy_capped(archive, info, out, budget, too_large)
        except BundleError:
            for file in _RUN_FILES:
                (dest / file).unlink(missing_ok=True)
            raise
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            for file in _RUN_FILES:
                (dest / file).unlink(missing_ok=True)
            raise BundleError(NOT_A_ZIP_MESSAGE.format(name=name)) from exc
    return dest


def _run_members(members: list[zipfile.ZipInfo], name: str) -> list[zipfile.ZipInfo]:
    """The bundle.json and arrays.npz members of the archive's single run folder."""
    folders: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for info in members:
        if info.is_dir():
            continue
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.name in _RUN_FILES:
            folders.setdefault(str(path.parent), {})[path.name] = info
    runs = {folder: files for folder, files in folders.items() if BUNDLE_FILE in files}
    if not runs:
        raise BundleError(NO_RUN_MESSAGE.format(name=name))
    if len(runs) > 1:
        raise BundleError(
            SEVERAL_RUNS_MESSAGE.format(name=name, count=len(runs), folders=", ".join(sorted(runs)))
        )
    (files,) = runs.values()
    if ARRAYS_FILE not in files:
        raise BundleError(NO_RUN_MESSAGE.format(name=name))
    return [files[BUNDLE_FILE], files[ARRAYS_FILE]]


def _copy_capped(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: Path, budget: int, message: str
) -> int:
    """Stream one member to ``out`` counting the bytes really written (a header's sizes can
    lie); return what is left of the byte budget, or raise ``message`` when it runs out."""
    with archive.open(info) as src, open(out, "wb") as dst:
        while chunk := src.read(1 << 20):
            budget -= len(chunk)
            if budget < 0:
                raise BundleError(message)
            dst.write(chunk)
    return budget


def zip_run(run_dir: str | os.PathLike) -> bytes:
    """A run folder's ``bundle.json`` and ``arrays.npz`` as zip bytes, in a folder named
    after the run (what the Open page takes back)."""
    run_dir = Path(run_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in _RUN_FILES:
            archive.write(run_dir / file, f"{run_dir.name}/{file}")
    return buffer.getvalue()
