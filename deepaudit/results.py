"""The result schema: what an audit produced, as plain data that saves and loads exactly.

An :class:`AuditBundle` is the frozen outcome of one audit run (a "snapshot"): the report
and the dashboard render it and never touch the model or the data again. It is plain
data (JSON-able dicts and lists) plus named numpy arrays, saved as a run folder holding
``bundle.json`` and ``arrays.npz``. This module does not import torch, so viewers load
bundles without it.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepaudit.errors import (
    BUNDLE_CORRUPT_MESSAGE,
    BUNDLE_MISSING_MESSAGE,
    BUNDLE_NEWER_SCHEMA_MESSAGE,
    BundleError,
    parameter_error,
)

SCHEMA_VERSION = 1
BUNDLE_FILE = "bundle.json"
ARRAYS_FILE = "arrays.npz"

#: Worst first. "inconclusive" means the evidence cannot tell pass from fail (an interval
#: straddling the threshold); it ranks between warn and pass.
SEVERITIES = ("fail", "warn", "inconclusive", "pass")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def to_plain(value: Any) -> Any:
    """Convert numpy scalars, tuples and nested containers to JSON-able Python data."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in an audit bundle")


@dataclass
class Evidence:
    """What a finding rests on: the metric, its value and interval, where it applies."""

    metric: str
    value: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    group: str | None = None
    sample_ids: list[int] = field(default_factory=list)
    table: str | None = None  # name of the family table holding the full evidence

    def to_dict(self) -> dict:
        return to_plain(
            {
                "metric": self.metric,
                "value": self.value,
                "interval": None if self.interval is None else list(self.interval),
                "threshold": self.threshold,
                "group": self.group,
                "sample_ids": list(self.sample_ids),
                "table": self.table,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping) -> Evidence:
        interval = data.get("interval")
        return cls(
            metric=data["metric"],
            value=data.get("value"),
            interval=None if interval is None else (interval[0], interval[1]),
            threshold=data.get("threshold"),
            group=data.get("group"),
            sample_ids=list(data.get("sample_ids", [])),
            table=data.get("table"),
        )


@dataclass
class Finding:
    """One sentence a reviewer reads first, its severity, and the evidence behind it."""

    family: str
    check: str
    severity: str
    message: str
    evidence: Evidence

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise parameter_error(
                "severity", "Finding", "one of " + ", ".join(map(repr, SEVERITIES)), self.severity
            )

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Finding:
        return cls(
            family=data["family"],
            check=data["check"],
            severity=data["severity"],
            message=data["message"],
            evidence=Evidence.from_dict(data["evidence"]),
        )


def severity_against(
    value: float, threshold: float, *, higher_is_worse: bool, warn_margin: float = 0.0
) -> str:
    """``fail`` beyond the threshold, ``warn`` within ``warn_margin`` of it, else ``pass``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "inconclusive"
    excess = value - threshold if higher_is_worse else threshold - value
    if excess > 0:
        return "fail"
    if excess > -warn_margin:
        return "warn"
    return "pass"


@dataclass
class FamilyResult:
    """Everything one audit family produced for one target."""

    family: str
    metrics: dict = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    model_evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data; arrays appear as a list of names, shapes and dtypes."""
        return {
            "family": self.family,
            "metrics": to_plain(self.metrics),
            "tables": to_plain(self.tables),
            "arrays": {
                k: {"shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)}
                for k, v in self.arrays.items()
            },
            "findings": [f.to_dict() for f in self.findings],
            "seconds": float(self.seconds),
            "model_evaluations": int(self.model_evaluations),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping, arrays: Mapping[str, np.ndarray]) -> FamilyResult:
        names = data.get("arrays", {})
        prefix = data["family"] + "/"
        missing = [k for k in names if prefix + k not in arrays]
        if missing:
            raise KeyError(f"arrays {missing} of family {data['family']!r} are missing")
        return cls(
            family=data["family"],
            metrics=dict(data.get("metrics", {})),
            tables={k: list(v) for k, v in data.get("tables", {}).items()},
            arrays={k: arrays[prefix + k] for k in names},
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            seconds=float(data.get("seconds", 0.0)),
            model_evaluations=int(data.get("model_evaluations", 0)),
            notes=list(data.get("notes", [])),
        )


@dataclass
class AuditBundle:
    """The saved outcome of one audit: target description, provenance, config, results."""

    target: dict
    provenance: dict
    config: dict
    families: dict[str, FamilyResult] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def findings(self) -> list[Finding]:
        """Every family's findings, worst first (stable within a severity)."""
        return worst_first(f for result in self.families.values() for f in result.findings)

    @property
    def worst_severity(self) -> str:
        found = self.findings
        return found[0].severity if found else "pass"

    def __getitem__(self, family: str) -> FamilyResult:
        return self.families[family]

    def to_dict(self) -> dict:
        """Plain JSON-able data (arrays listed by name; they live in ``arrays.npz``)."""
        return {
            "schema_version": self.schema_version,
            "target": to_plain(self.target),
            "provenance": to_plain(self.provenance),
            "config": to_plain(self.config),
            "families": {name: r.to_dict() for name, r in self.families.items()},
        }

    def all_arrays(self) -> dict[str, np.ndarray]:
        return {
            f"{name}/{key}": np.asarray(value)
            for name, result in self.families.items()
            for key, value in result.arrays.items()
        }

    @classmethod
    def from_dict(
        cls, data: Mapping, arrays: Mapping[str, np.ndarray] | None = None
    ) -> AuditBundle:
        arrays = arrays or {}
        return cls(
            target=dict(data["target"]),
            provenance=dict(data["provenance"]),
            config=dict(data["config"]),
            families={
                name: FamilyResult.from_dict(result, arrays)
                for name, result in data.get("families", {}).items()
            },
            schema_version=int(data["schema_version"]),
        )

    # -- files ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``bundle.json`` and ``arrays.npz`` into the folder ``path``, atomically.

        A new folder is built under a temporary name and renamed into place. In an existing
        folder the arrays are replaced first and ``bundle.json`` last; it records the
        arrays' sha256, so a save cut between the two renames is detected on load.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            arrays_path = staging / ARRAYS_FILE
            with open(arrays_path, "wb") as fh:
                np.savez_compressed(fh, **self.all_arrays())
            document = self.to_dict()
            document["arrays_sha256"] = _sha256_file(arrays_path)
            with open(staging / BUNDLE_FILE, "w", encoding="utf-8") as fh:
                json.dump(document, fh, indent=1, allow_nan=True)
                fh.flush()
                os.fsync(fh.fileno())
            if not path.exists():
                os.replace(staging, path)
                return path
            if not path.is_dir():
                raise parameter_error("path", "AuditBundle.save", "a folder path", str(path))
            os.replace(arrays_path, path / ARRAYS_FILE)
            os.replace(staging / BUNDLE_FILE, path / BUNDLE_FILE)
            return path
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> AuditBundle:
        """Read a run folder; refuse a newer schema, a missing or mismatched arrays file.

        Arrays are read with ``allow_pickle=False``: an uploaded bundle can't run code.
        """
        path = Path(path)
        bundle_path = path / BUNDLE_FILE
        if not bundle_path.is_file():
            raise BundleError(BUNDLE_MISSING_MESSAGE.format(path=path))
        try:
            document = json.loads(bundle_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(
                BUNDLE_CORRUPT_MESSAGE.format(path=path, reason=f"bundle.json is not JSON ({exc})")
            ) from exc
        version = document.get("schema_version") if isinstance(document, dict) else None
        if not isinstance(version, int):
            raise BundleError(
                BUNDLE_CORRUPT_MESSAGE.format(path=path, reason="bundle.json has no schema_version")
            )
        if version > SCHEMA_VERSION:
            from deepaudit import __version__

            raise BundleError(
                BUNDLE_NEWER_SCHEMA_MESSAGE.format(
                    path=path, found=version, version=__version__, supported=SCHEMA_VERSION
                )
            )
        arrays_path = path / ARRAYS_FILE
        if not arrays_path.is_file():
            raise BundleError(
                BUNDLE_CORRUPT_MESSAGE.format(path=path, reason="arrays.npz is missing")
            )
        if document.get("arrays_sha256") != _sha256_file(arrays_path):
            raise BundleError(
                BUNDLE_CORRUPT_MESSAGE.format(
                    path=path,
                    reason="arrays.npz does not match the sha256 recorded in bundle.json "
                    "(an interrupted save or an edited file)",
                )
            )
        try:
            with np.load(arrays_path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            return cls.from_dict(document, arrays)
        except (KeyError, ValueError, TypeError) as exc:
            raise BundleError(BUNDLE_CORRUPT_MESSAGE.format(path=path, reason=str(exc))) from exc

    # -- notebooks ----------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """A findings table for Jupyter; every string is escaped."""
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(f.severity)}</td><td>{esc(f.family)}</td><td>{esc(f.message)}</td></tr>"
            for f in self.findings
        )
        spent = sum(r.seconds for r in self.families.values())
        return (
            f"<div><strong>deepaudit</strong> audit of <code>{esc(str(self.target.get('name')))}</code> "
            f"({esc(str(self.target.get('kind')))}, {esc(str(self.target.get('modality')))}): "
            f"{len(self.families)} families, {spent:.1f} s, worst: {esc(self.worst_severity)}"
            f"<table><thead><tr><th>severity</th><th>family</th><th>finding</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )

    def __repr__(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        return (
            f"AuditBundle(target={self.target.get('name')!r}, "
            f"families={list(self.families)}, findings: {summary or 'none'})"
        )


def load_bundle(path: str | os.PathLike) -> AuditBundle:
    """Load a saved audit run folder (see :meth:`AuditBundle.load`)."""
    return AuditBundle.load(path)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _RANK[f.severity])
