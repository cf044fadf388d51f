"""Uploaded runs are unpacked safely and never unpickled."""

from __future__ import annotations

import io
import json
import pickle
import stat
import zipfile

import numpy as np
import pytest

import deepaudit as da
from deepaudit.dashboard.archive import (
    NO_RUN_MESSAGE,
    NOT_A_ZIP_MESSAGE,
    SEVERAL_RUNS_MESSAGE,
    TOO_LARGE_MESSAGE,
    UNSAFE_MEMBER_MESSAGE,
    extract_run_zip,
    zip_run,
)
from deepaudit.errors import BundleError
from deepaudit.run_folder import sha256_file


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _run_files(run_dir) -> dict[str, bytes]:
    return {n: (run_dir / n).read_bytes() for n in ("bundle.json", "arrays.npz")}


def test_a_zipped_run_unpacks_to_the_same_bundle(run_paths, tmp_path):
    run = run_paths["tabular"]
    folder = extract_run_zip(zip_run(run), tmp_path / "x", name="tabular.zip")
    original, back = da.load_bundle(run), da.load_bundle(folder)
    assert back.to_dict() == original.to_dict()
    for key, value in original.all_arrays().items():
        np.testing.assert_array_equal(back.all_arrays()[key], value)
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "bundle.json"]


def test_files_at_the_top_level_and_extra_members_are_fine(run_paths, tmp_path):
    members = _run_files(run_paths["tabular"]) | {"report.html": b"<script>x</script>"}
    folder = extract_run_zip(_zip(members), tmp_path / "x")
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "bundle.json"]
    assert da.load_bundle(folder).target["name"] == "tabular"


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("/etc/bundle.json", "an absolute path"),
        ("run/../../bundle.json", "a '..' part"),
        ("..\\evil.txt", "a '..' part"),
        ("C:/x/bundle.json", "an absolute path"),
    ],
)
def test_unsafe_paths_refuse_the_whole_archive(run_paths, tmp_path, member, why):
    members = _run_files(run_paths["tabular"]) | {member: b"x"}
    with pytest.raises(BundleError) as caught:
        extract_run_zip(_zip(members), tmp_path / "x", name="up.zip")
    assert str(caught.value) == UNSAFE_MEMBER_MESSAGE.format(name="up.zip", member=member, why=why)
    assert not (tmp_path / "x").exists()


def test_a_symbolic_link_is_refused(run_paths, tmp_path):
    members = _run_files(run_paths["tabular"]) | {"run/link": b"/etc/passwd"}
    with pytest.raises(BundleError, match="a symbolic link"):
        extract_run_zip(_zip(members, links=("run/link",)), tmp_path / "x")


def test_not_a_zip_no_run_several_runs(run_paths, tmp_path):
    with pytest.raises(BundleError) as caught:
        extract_run_zip(b"PK\x03\x04 not really", tmp_path / "a", name="f.zip")
    assert str(caught.value) == NOT_A_ZIP_MESSAGE.format(name="f.zip")
    files = _run_files(run_paths["tabular"])
    with pytest.raises(BundleError) as caught:
        extract_run_zip(_zip({"a/bundle.json": files["bundle.json"]}), tmp_path / "b", name="f")
    assert str(caught.value) == NO_RUN_MESSAGE.format(name="f")
    two = {f"{d}/{n}": data for d in ("a", "b") for n, data in files.items()}
    with pytest.raises(BundleError) as caught:
        extract_run_zip(_zip(two), tmp_path / "c", name="f")
    assert str(caught.value) == SEVERAL_RUNS_MESSAGE.format(name="f", count=2, folders="a, b")


def test_an_archive_unpacking_beyond_the_limit_keeps_nothing(run_paths, tmp_path):
    files = _run_files(run_paths["tabular"])
    limit = len(files["bundle.json"]) + len(files["arrays.npz"]) - 1
    with pytest.raises(BundleError) as caught:
        extract_run_zip(_zip(files), tmp_path / "x", name="f", max_bytes=limit)
    assert str(caught.value) == TOO_LARGE_MESSAGE.format(name="f", limit_mb=limit / 2**20)
    assert not (tmp_path / "x").exists()


class _Planted:
    """Unpickling this would create a file: the test proves nothing is unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_inside_arrays_is_never_run(run_paths, tmp_path):
    planted = tmp_path / "pwned"
    document = json.loads((run_paths["tabular"] / "bundle.json").read_text())
    arrays = io.BytesIO()
    np.savez(arrays, **{"overview/proba": np.array([_Planted(str(planted))], dtype=object)})
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "arrays.npz").write_bytes(arrays.getvalue())
    document["arrays_sha256"] = sha256_file(staging / "arrays.npz")
    document["families"] = {"overview": document["families"]["overview"]}
    members = {
        "bundle.json": json.dumps(document).encode(),
        "arrays.npz": arrays.getvalue(),
    }
    folder = extract_run_zip(_zip(members), tmp_path / "x")
    assert pickle.dumps(_Planted(str(planted)))  # the payload is a real pickle
    with pytest.raises(BundleError, match="cannot be read"):
        da.load_bundle(folder)
    assert not planted.exists()
