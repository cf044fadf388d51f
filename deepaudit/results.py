"""The result schema: what an audit produced, as plain data that saves and loads exactly.

An :class:`AuditBundle` is the frozen outcome of one audit run (a "snapshot"): the report
and the dashboard render it and never touch the model or the data again. It is plain
data (JSON-able dicts and lists) plus named numpy arrays, saved as a run folder holding
``bundle.json`` and ``arrays.npz``. This module does not import torch, so viewers load
bundles without it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from deepaudit.errors import (
    BUNDLE_CORRUPT_MESSAGE,
    BUNDLE_MISSING_MESSAGE,
    BUNDLE_NEWER_SCHEMA_MESSAGE,
    BundleError,
    parameter_error,
)
from deepaudit.run_folder import (
    ARRAYS_FILE,
    BUNDLE_FILE,
    readable_folder,
    replace_pair,
    sha256_file,
)
from deepaudit.schema import (
    SchemaError,
    check_names,
    check_rows,
    check_values,
    columns,
    is_number,
    make_rows,
)

if TYPE_CHECKING:
    from deepaudit.issues import Issue

SCHEMA_VERSION = 2

#: Worst first. "inconclusive" means the evidence cannot tell pass from fail (an interval
#: straddling the threshold); it ranks between warn and pass.
SEVERITIES = ("fail", "warn", "inconclusive", "pass")
#: The rank of each severity, worst first: the one order every reader sorts by.
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_RANK = SEVERITY_RANK


def to_plain(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """Convert numpy scalars, tuples and nested containers to JSON-able Python data.

    Anything else is an error, unless ``default`` converts it (``str`` for metadata
    that is only shown)."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, default) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v, default) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist(), default)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if default is not None:
        return default(value)
    raise TypeError(f"cannot store a {type(value).__name__} in an audit bundle")


@dataclass(frozen=True)
class Evidence:
    """What a finding rests on: the metric, its value and interval, where it applies.

    ``view`` is the key of the view (in the family's report section) that shows the
    evidence: a table's name, or a figure's key.
    """

    metric: str
    value: float | None = None
    interval: tuple[float, float] | None = None
    threshold: float | None = None
    group: str | None = None
    sample_ids: tuple[int, ...] = ()
    view: str | None = None

    def to_dict(self) -> dict:
        return to_plain(
            {
                "metric": self.metric,
                "value": self.value,
                "interval": None if self.interval is None else list(self.interval),
                "threshold": self.threshold,
                "group": self.group,
                "sample_ids": list(self.sample_ids),
                "view": self.view,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping) -> Evidence:
        check_values("evidence", data, _EVIDENCE_FIELDS)
        interval = data.get("interval")
        if interval is not None and (len(interval) != 2 or not all(map(is_number, interval))):
            raise SchemaError(f"evidence['interval'] must be two numbers; got {interval!r}")
        if not all(isinstance(i, int) for i in data.get("sample_ids", [])):
            raise SchemaError("evidence['sample_ids'] must be a list of ints")
        return cls(
            metric=data["metric"],
            value=data.get("value"),
            interval=None if interval is None else (interval[0], interval[1]),
            threshold=data.get("threshold"),
            group=data.get("group"),
            sample_ids=tuple(data.get("sample_ids", [])),
            view=data.get("view"),
        )


_EVIDENCE_FIELDS = {
    "metric": str,
    "value": float | None,
    "interval": list | None,
    "threshold": float | None,
    "group": str | None,
    "sample_ids": list,
    "view": str | None,
}
_FINDING_FIELDS = {
    "family": str,
    "check": str,
    "severity": str,
    "message": str,
    "evidence": dict,
    "subject": str | None,
}


@dataclass(frozen=True)
class Finding:
    """One sentence a reviewer reads first, its severity, and the evidence behind it.

    ``subject`` names what the finding is about when a check speaks of several things
    (the attribute a counterfactual flips, say); with family and check it makes the
    finding's stable :attr:`id`.
    """

    family: str
    check: str
    severity: str
    message: str
    evidence: Evidence
    subject: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise parameter_error(
                "severity", "Finding", "one of " + ", ".join(map(repr, SEVERITIES)), self.severity
            )

    @property
    def id(self) -> str:
        """A stable identifier from family, check and subject: the same check of the same
        audit has the same id in every run, whatever its numbers (runs are compared by it)."""
        parts = [self.family, self.check] + ([self.subject] if self.subject else [])
        return ".".join(slug(p) for p in parts)

    def _repr_html_(self) -> str:
        from deepaudit.notebook import finding_html

        return finding_html(self)

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence.to_dict(),
            "subject": self.subject,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Finding:
        check_values("finding", data, _FINDING_FIELDS)
        for key in ("family", "check", "severity", "message", "evidence"):
            if key not in data:
                raise SchemaError(f"a finding lacks {key!r}")
        if data["severity"] not in _RANK:
            raise SchemaError(
                f"finding['severity'] must be one of {', '.join(SEVERITIES)}; "
                f"got {data['severity']!r}"
            )
        return cls(
            family=data["family"],
            check=data["check"],
            severity=data["severity"],
            message=data["message"],
            evidence=Evidence.from_dict(data["evidence"]),
            subject=data.get("subject"),
        )


def slug(text: str) -> str:
    """Lower-case letters, digits, `-` and `_`: a name as part of a stable id."""
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text).lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "-"


_RESULT_FIELDS = {
    "family": str,
    "schema_version": int,
    "metrics": dict,
    "tables": dict,
    "arrays": dict,
    "findings": list,
    "seconds": float,
    "model_evaluations": int,
    "notes": list,
}

Migration = Callable[[dict], dict]


@dataclass
class FamilyResult:
    """Everything one audit family produced for one target.

    The base class holds any family's results as plain data. A family's own result is a
    subclass that declares its shape, so that readers never guess:

    ``TABLES``
        table name -> row dataclass (:mod:`deepaudit.schema`): its columns and types;
    ``METRICS``
        metric name (or ``*`` pattern) -> type;
    ``ARRAYS``
        array name (or pattern) -> what it holds;
    ``SCHEMA_VERSION`` and ``MIGRATIONS``
        the version of that shape, and for each older version ``v`` a function from a
        saved result of version ``v`` (plain data) to one of version ``v + 1``.

    A declared result is checked when saved and when loaded (:meth:`check_schema`).
    """

    family: str
    metrics: dict = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    model_evaluations: int = 0
    notes: list[str] = field(default_factory=list)
    #: The schema version this result was saved with (older ones were migrated on load).
    saved_version: int | None = field(default=None, compare=False, repr=False)

    SCHEMA_VERSION: ClassVar[int] = 1
    TABLES: ClassVar[Mapping[str, type]] = {}
    METRICS: ClassVar[Mapping[str, Any]] = {}
    ARRAYS: ClassVar[Mapping[str, str]] = {}
    MIGRATIONS: ClassVar[Mapping[int, Migration]] = {}

    @classmethod
    def declared(cls) -> bool:
        """Whether this class declares its shape (the generic base class does not)."""
        return bool(cls.TABLES or cls.METRICS or cls.ARRAYS)

    # -- typed reading ------------------------------------------------------------------

    def rows(self, name: str) -> list:
        """The rows of table ``name`` as instances of its declared row dataclass
        (``[]`` when the audit did not produce that table)."""
        row_class = self._row_class(name)
        return make_rows(self.tables.get(name, []), row_class)

    def table(self, name: str):
        """Table ``name`` as a pandas DataFrame: its declared columns in their order (those
        the audit filled), then any columns named by data (one per method, group, ...)."""
        import pandas as pd

        row_class = self._row_class(name) if self.declared() else None
        rows = self.tables.get(name, [])
        if row_class is None:
            return pd.DataFrame(rows)
        declared = [c.name for c in columns(row_class)]
        seen = dict.fromkeys(k for r in rows for k in r)
        order = [n for n in declared if n in seen] + [n for n in seen if n not in declared]
        return pd.DataFrame(rows, columns=order)

    def _row_class(self, name: str) -> type:
        try:
            return self.TABLES[name]
        except KeyError:
            known = ", ".join(map(repr, self.TABLES)) or "none declared"
            raise KeyError(
                f"the {self.family} result declares no table {name!r} (tables: {known})"
            ) from None

    def check_schema(self) -> None:
        """Raise :class:`~deepaudit.schema.SchemaError` unless the result has the shape
        its class declares (the generic class checks nothing)."""
        if not self.declared():
            return
        where = f"the {self.family} result"
        for name, rows in self.tables.items():
            if name not in self.TABLES:
                raise SchemaError(
                    f"{where} has the undeclared table {name!r} "
                    f"(declared: {', '.join(self.TABLES)})"
                )
            check_rows(f"table {name!r} of {where}", rows, self.TABLES[name])
        check_values(f"the metrics of {where}", self.metrics, self.METRICS)
        check_names(f"the arrays of {where}", self.arrays, self.ARRAYS)

    # -- plain data ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Plain data; arrays appear as a list of names, shapes and dtypes."""
        document = {
            "family": self.family,
            "schema_version": self.SCHEMA_VERSION,
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
        return document

    @classmethod
    def migrate(cls, data: Mapping) -> dict:
        """A saved result of any older version of this class, as the current version.

        The generic class (a family this installation does not know, such as another
        user's plugin) keeps the result as it was saved, whatever its version."""
        document = dict(data)
        if not cls.declared():
            return document
        version = document.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            raise SchemaError(
                f"the {document.get('family')} result's schema_version is {version!r}"
            )
        if version > cls.SCHEMA_VERSION:
            raise SchemaError(
                f"the {document.get('family')} result has schema version {version}; this "
                f"deepaudit reads up to {cls.SCHEMA_VERSION}: upgrade deepaudit to read it"
            )
        while version < cls.SCHEMA_VERSION:
            if version not in cls.MIGRATIONS:
                raise SchemaError(
                    f"no migration of the {document.get('family')} result from version {version}"
                )
            document = cls.MIGRATIONS[version](document)
            version += 1
            document["schema_version"] = version
        return document

    @classmethod
    def from_dict(cls, data: Mapping, arrays: Mapping[str, np.ndarray]) -> FamilyResult:
        """A result from plain data (migrated to this class's version and checked)."""
        check_values("a family result", data, _RESULT_FIELDS)
        if "family" not in data:
            raise SchemaError("a family result lacks 'family'")
        saved_version = data.get("schema_version", 1)
        data = cls.migrate(data)
        names = data.get("arrays", {})
        prefix = data["family"] + "/"
        missing = [k for k in names if prefix + k not in arrays]
        if missing:
            raise SchemaError(f"arrays {missing} of family {data['family']!r} are missing")
        for key in ("tables",):
            if not all(isinstance(v, list) for v in data.get(key, {}).values()):
                raise SchemaError(f"the {data['family']} result's {key} must be lists of rows")
        result = cls(
            family=data["family"],
            metrics=dict(data.get("metrics", {})),
            tables={k: list(v) for k, v in data.get("tables", {}).items()},
            arrays={k: arrays[prefix + k] for k in names},
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            seconds=float(data.get("seconds", 0.0)),
            model_evaluations=int(data.get("model_evaluations", 0)),
            notes=[str(n) for n in data.get("notes", [])],
            saved_version=saved_version,
        )
        result.check_schema()
        return result

    # -- notebooks ----------------------------------------------------------------------

    def _repr_html_(self) -> str:
        from deepaudit.notebook import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(family={self.family!r}, metrics={len(self.metrics)}, "
            f"tables={list(self.tables)}, findings={len(self.findings)})"
        )


_BUNDLE_FIELDS = {
    "schema_version": int,
    "target": dict,
    "provenance": dict,
    "config": dict,
    "families": dict,
    "arrays_sha256": str,
}
#: The provenance every run records (older bundles may lack some; extra keys are kept).
_PROVENANCE_FIELDS = {
    "engine": str,
    "workers": int | None,
    "created_at": str,
    "seed": int,
    "device": str,
    "device_name": str,
    "versions": dict,
    "model_sha256": str | None,
    "data_sha256": str | None,
    "seconds": float,
    "seconds_per_family": dict,
    "model_evaluations": int,
    "incomplete": dict | None,
    "*": Any,
}


def _evidence_v1_to_v2(evidence: Mapping) -> dict:
    """Version 1 called the evidence's view ``table`` (a table in some families, a
    figure in others); version 2 calls it ``view``."""
    out = {k: v for k, v in evidence.items() if k != "table"}
    out.setdefault("view", evidence.get("table"))
    return out


def migrate_bundle(data: Mapping) -> dict:
    """A saved bundle of an older schema version, as the current one (families' own
    results are migrated by their classes)."""
    document = dict(data)
    version = document["schema_version"]
    if version < 2:
        families = {}
        for name, result in document.get("families", {}).items():
            result = dict(result)
            result["findings"] = [
                {**f, "evidence": _evidence_v1_to_v2(f.get("evidence") or {})}
                if isinstance(f, Mapping)
                else f
                for f in result.get("findings", [])
            ]
            result.setdefault("schema_version", 1)
            families[name] = result
        document["families"] = families
        document["schema_version"] = 2
    return document


def result_class(family: str) -> type[FamilyResult]:
    """The typed result class of ``family`` (the generic one for a family this
    installation does not know, such as another user's plugin)."""
    from deepaudit.families import find_family

    found = find_family(family)
    return FamilyResult if found is None else found.result_class


@dataclass
class AuditBundle:
    """The saved outcome of one audit: target description, provenance, config, results."""

    target: dict
    provenance: dict
    config: dict
    families: dict[str, FamilyResult] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    #: The sha256 of the bundle.json this bundle was loaded from or last saved to (None:
    #: never on disk). Reports and findings files record it, to be told apart from ones
    #: made from another run.
    source_sha256: str | None = field(default=None, compare=False, repr=False)

    @property
    def findings(self) -> list[Finding]:
        """Every family's findings, worst first (stable within a severity)."""
        return worst_first(f for result in self.families.values() for f in result.findings)

    @property
    def incomplete(self) -> dict | None:
        """When the run stopped part-way: the family it stopped in, the error, and the
        families not run (``None`` for a complete run)."""
        return self.provenance.get("incomplete") or None

    @property
    def incomplete_text(self) -> str | None:
        """One sentence a reader sees wherever the run is shown, or None when complete."""
        stop = self.incomplete
        if stop is None:
            return None
        not_run = ", ".join(stop.get("not_run") or []) or "none"
        return (
            f"Incomplete run: it stopped in the {stop.get('stopped_in')!r} family "
            f"({stop.get('error')}); not run: {not_run}. Its findings cover only the "
            "families that finished."
        )

    @property
    def issues(self) -> list[Issue]:
        """The findings grouped by what they concern, worst first (:mod:`deepaudit.issues`)."""
        from deepaudit.issues import group_issues

        return group_issues(self)

    @property
    def worst_severity(self) -> str:
        found = self.findings
        return found[0].severity if found else "pass"

    def __getitem__(self, family: str) -> FamilyResult:
        return self.families[family]

    def to_dict(self) -> dict:
        """Plain JSON-able data (arrays listed by name; they live in ``arrays.npz``).

        Every typed result is checked against its declared shape first."""
        for result in self.families.values():
            result.check_schema()
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
        """A bundle from plain data of any schema version up to this one: the bundle is
        migrated first, then each family's result by its own class."""
        arrays = arrays or {}
        check_values("the bundle", data, _BUNDLE_FIELDS)
        for key in ("schema_version", "target", "provenance", "config"):
            if key not in data:
                raise SchemaError(f"the bundle lacks {key!r}")
        data = migrate_bundle(data)
        check_values("the provenance", data["provenance"], _PROVENANCE_FIELDS)
        families = {}
        for name, result in data.get("families", {}).items():
            if not isinstance(result, Mapping) or result.get("family") != name:
                raise SchemaError(f"the result of family {name!r} is not a result of {name!r}")
            families[name] = result_class(name).from_dict(result, arrays)
        return cls(
            target=dict(data["target"]),
            provenance=dict(data["provenance"]),
            config=dict(data["config"]),
            families=families,
            schema_version=SCHEMA_VERSION,
        )

    # -- files ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``bundle.json`` and ``arrays.npz`` into the folder ``path``, atomically.

        A new folder is built under a temporary name and renamed into place. An existing
        run is replaced so that a complete run (old or new) loads at every instant, and
        the report and findings files made from the old run are removed with it (see
        :mod:`deepaudit.run_folder`).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(path)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would become the run's
            arrays_path = staging / ARRAYS_FILE
            with open(arrays_path, "wb") as fh:
                np.savez_compressed(fh, **self.all_arrays())
            document = self.to_dict()
            document["arrays_sha256"] = sha256_file(arrays_path)
            with open(staging / BUNDLE_FILE, "w", encoding="utf-8") as fh:
                json.dump(document, fh, indent=1, allow_nan=True)
                fh.flush()
                os.fsync(fh.fileno())
            sha = sha256_file(staging / BUNDLE_FILE)
            if not path.exists():
                os.replace(staging, path)
            elif not path.is_dir():
                raise parameter_error("path", "AuditBundle.save", "a folder path", str(path))
            else:
                replace_pair(staging, path)
            self.source_sha256 = sha
            return path
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> AuditBundle:
        """Read a run folder; refuse a newer schema, a missing or mismatched arrays file.

        Arrays are read with ``allow_pickle=False``: an uploaded bundle can't run code.
        An overwrite cut between its renames loads the previous run, still complete.
        """
        path = readable_folder(Path(path))
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
            from deepaudit._version import __version__

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
        if document.get("arrays_sha256") != sha256_file(arrays_path):
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
            bundle = cls.from_dict(document, arrays)
            bundle.source_sha256 = sha256_file(bundle_path)
            return bundle
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise BundleError(BUNDLE_CORRUPT_MESSAGE.format(path=path, reason=str(exc))) from exc

    # -- notebooks ----------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """Issues first, then every finding, for Jupyter (every string escaped)."""
        from deepaudit.notebook import bundle_html

        return bundle_html(self)

    def __repr__(self) -> str:
        summary = tally_text(severity_tally(self.findings))
        stop = "" if self.incomplete is None else ", INCOMPLETE"
        return (
            f"AuditBundle(target={self.target.get('name')!r}, "
            f"families={list(self.families)}, findings: {summary or 'none'}{stop})"
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: A staging folder untouched this long was left by a save that crashed.
STALE_STAGING_SECONDS = 600


def remove_stale_staging(path: Path) -> list[Path]:
    """Remove the staging folders (``.NAME.xxxx.tmp``) a crashed save of ``path`` left
    beside it, once they are :data:`STALE_STAGING_SECONDS` old (a save in progress is
    younger); return what was removed."""
    import time

    removed = []
    for staging in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            old = time.time() - staging.stat().st_mtime > STALE_STAGING_SECONDS
        except OSError:
            continue
        if old and staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def load_bundle(path: str | os.PathLike) -> AuditBundle:
    """Load a saved audit run folder (see :meth:`AuditBundle.load`)."""
    return AuditBundle.load(path)


def tally_text(counts: Mapping[str, int]) -> str:
    """``"2 fail, 1 warn"``: the severities counted, zeros left out (``""`` when none)."""
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def severity_tally(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity, worst first (every severity, maybe 0)."""
    found = [f.severity for f in findings]
    return {s: found.count(s) for s in SEVERITIES}


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _RANK[f.severity])
