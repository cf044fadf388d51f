"""Evaluation data too large for memory: batches from a DataLoader, an IterableDataset or
parquet files, and one profiling pass that learns what the audits need to know.

A streaming :class:`~deepaudit.audit.target.Target` never holds all rows. It reads the
data batch by batch, every time it is asked to (:func:`iter_batches`), and keeps from a
single profiling pass only what does not grow with rows: the number of rows, each
column's range, the distinct combinations of sensitive attributes and their counts, a
content hash, and a bounded, seeded reservoir sample of rows. Audits that need every
row aggregate over the batches; audits of individual samples read the sample.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, IterableDataset

from deepaudit._validation import as_class_indices
from deepaudit.errors import described, parameter_error

_OWNER = "Target"
DEFAULT_SAMPLE_SIZE = 2048
PARQUET_BATCH_ROWS = 65536  # rows read from parquet at a time (about 2 MB for 8 columns)
LOADER_BATCH_ROWS = 1024  # items of an IterableDataset collated at a time
PARQUET_SUFFIXES = (".parquet", ".pq")

#: The count column of the sensitive levels (a name no attribute is given).
LEVEL_COUNT = "__deepaudit_count__"


@dataclass
class Batch:
    """Consecutive evaluation rows: inputs, labels and sensitive attributes."""

    x: torch.Tensor
    labels: np.ndarray | None
    sensitive: pd.DataFrame | None
    start: int  # index of the first row in the whole data

    def __len__(self) -> int:
        return int(self.x.shape[0])


class DataStream:
    """A re-iterable source of :class:`Batch` es; each ``iter(stream)`` reads from the start."""

    batch_size: int

    def __iter__(self) -> Iterator[Batch]:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def is_streaming_source(data: Any) -> bool:
    """True for data a Target reads batch by batch instead of holding in memory."""
    if isinstance(data, DataStream | DataLoader | IterableDataset):
        return True
    return isinstance(data, str | os.PathLike) and _parquet_files(Path(data)) is not None


# -- DataLoader and IterableDataset ---------------------------------------------------


class LoaderStream(DataStream):
    """Batches of a torch ``DataLoader`` (an ``IterableDataset`` is wrapped in one).

    Items are ``x``, ``(x, y)``, ``(x, y, sensitive)`` or a dict with keys ``"x"``,
    ``"y"`` and ``"sensitive"`` (a dict of attribute values), collated by the loader.
    """

    def __init__(self, source: DataLoader | IterableDataset, batch_size: int) -> None:
        if isinstance(source, DataLoader):
            self.loader = source
            self.batch_size = int(source.batch_size or batch_size)
        else:
            self.loader = DataLoader(source, batch_size=batch_size)
            self.batch_size = batch_size

    def __iter__(self) -> Iterator[Batch]:
        start = 0
        for item in self.loader:
            x, y, sensitive = _split_item(item)
            batch = Batch(x, y, sensitive, start)
            start += len(batch)
            yield batch

    def describe(self) -> str:
        dataset = getattr(self.loader, "dataset", None)
        return f"DataLoader over {type(dataset).__name__}"


def _split_item(item: Any) -> tuple[torch.Tensor, np.ndarray | None, pd.DataFrame | None]:
    if isinstance(item, Mapping):
        if "x" not in item:
            raise parameter_error(
                "data", _OWNER, "batches as dicts with an 'x' key", sorted(map(str, item))
            )
        parts = [item["x"], item.get("y"), item.get("sensitive")]
    elif isinstance(item, tuple | list):
        if not 1 <= len(item) <= 3:
            raise parameter_error(
                "data",
                _OWNER,
                "batches of x, (x, y) or (x, y, sensitive)",
                described(f"{len(item)} parts"),
            )
        parts = [*item, None, None][:3]
    else:
        parts = [item, None, None]
    x, y, sensitive = parts
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    labels = None if y is None else np.asarray(torch.as_tensor(y).cpu()).reshape(-1)
    frame = None
    if sensitive is not None:
        if not isinstance(sensitive, Mapping):
            raise parameter_error(
                "data", _OWNER, "sensitive attributes of a batch as a dict of columns", sensitive
            )
        frame = pd.DataFrame(
            {
                str(k): (v.cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
                for k, v in sensitive.items()
            }
        )
    return x, labels, frame


# -- parquet ----------------------------------------------------------------------------


def _parquet_files(path: Path) -> list[Path] | None:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in PARQUET_SUFFIXES)
        return files or None
    if path.suffix in PARQUET_SUFFIXES:
        return [path]
    return None


class ParquetStream(DataStream):
    """Row batches of a parquet file (or a folder of them, read in name order).

    Tabular data only: ``features`` are the model's input columns (numeric), ``label``
    the column of true classes and ``sensitive`` the columns of sensitive attributes.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        features: Sequence[str] | None = None,
        label: str | None = None,
        sensitive: Sequence[str] = (),
        batch_size: int = PARQUET_BATCH_ROWS,
    ) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        files = _parquet_files(self.path)
        if files is None or not all(f.exists() for f in files):
            raise parameter_error(
                "data", _OWNER, "an existing parquet file or folder of parquet files", str(path)
            )
        self.files = files
        schema = pq.ParquetFile(files[0]).schema_arrow
        columns = list(schema.names)
        self.label = label
        self.sensitive = [str(s) for s in sensitive]
        named = [("labels", [label] if label else []), ("sensitive", self.sensitive)]
        if features is not None:
            named.append(("feature_names", list(features)))
        for argument, wanted in named:
            missing = [c for c in wanted if c not in columns]
            if missing:
                raise parameter_error(
                    argument,
                    _OWNER,
                    "columns of the parquet data (" + ", ".join(columns) + ")",
                    missing,
                )
        taken = {*self.sensitive, *([label] if label else [])}
        self.features = (
            [str(c) for c in features]
            if features is not None
            else [c for c in columns if c not in taken]
        )
        bad = [
            c
            for c in self.features
            if not (schema.field(c).type.num_fields == 0 and _numeric(schema.field(c).type))
        ]
        if bad:
            raise parameter_error(
                "feature_names", _OWNER, "numeric parquet columns as model inputs", bad
            )
        self.batch_size = int(batch_size)

    def __iter__(self) -> Iterator[Batch]:
        import pyarrow.parquet as pq

        columns = [*self.features, *([self.label] if self.label else []), *self.sensitive]
        start = 0
        for file in self.files:
            # pre_buffer=False: with it, pyarrow caches every column chunk it has read, and
            # memory grows with rows (about 0.5 GB over 10M rows of this size).
            reader = pq.ParquetFile(file, pre_buffer=False)
            for record in reader.iter_batches(batch_size=self.batch_size, columns=columns):
                x = np.column_stack(
                    [record.column(c).to_numpy(zero_copy_only=False) for c in self.features]
                ).astype(np.float32, copy=False)
                labels = (  # a copy: arrow's buffers are read-only, torch wants its own
                    np.array(record.column(self.label).to_numpy(zero_copy_only=False))
                    if self.label
                    else None
                )
                sensitive = (
                    pd.DataFrame(
                        {c: record.column(c).to_numpy(zero_copy_only=False) for c in self.sensitive}
                    )
                    if self.sensitive
                    else None
                )
                batch = Batch(torch.from_numpy(np.ascontiguousarray(x)), labels, sensitive, start)
                start += len(batch)
                yield batch

    def describe(self) -> str:
        return f"parquet {self.path}"


def _numeric(arrow_type: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_boolean(arrow_type)
    )


# -- the profiling pass -----------------------------------------------------------------


@dataclass
class StreamProfile:
    """What one pass over a stream learns, in memory that does not grow with rows."""

    n_rows: int = 0
    shape: tuple[int, ...] = ()
    minimum: np.ndarray | None = None  # per column (tabular) or overall (1 value)
    maximum: np.ndarray | None = None
    column_sum: np.ndarray | None = None  # tabular: per column, for exact means
    has_labels: bool = False
    label_range: tuple[int, int] | None = None
    #: Distinct combinations of the sensitive attributes, with a ``count`` column.
    levels: pd.DataFrame | None = None
    sha256: str = ""
    sample_x: torch.Tensor | None = None
    sample_labels: np.ndarray | None = None
    sample_sensitive: pd.DataFrame | None = None
    sample_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sample_seed: int = 0


class Reservoir:
    """A uniform random sample of at most ``size`` rows of a stream (Algorithm R),
    seeded, in one pass, whatever the number of rows."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = int(size)
        self.rng = np.random.default_rng([seed, 0x5EED])
        self.slots: list[tuple[int, torch.Tensor, Any, Any]] = []

    def offer(self, batch: Batch) -> None:
        n = len(batch)
        rows = batch.start + np.arange(n)
        first = max(0, min(n, self.size - len(self.slots)))
        for i in range(first):  # the reservoir is not full yet: take rows as they come
            self.slots.append(_row(batch, i))
        if first == n:
            return
        later = np.arange(first, n)
        # Row r (0-based) replaces slot j ~ U{0..r} when j < size; the last row to pick a
        # slot within this batch wins, as in the sequential algorithm.
        picks = np.floor(self.rng.random(len(later)) * (rows[later] + 1)).astype(np.int64)
        chosen = picks < self.size
        later, picks = later[chosen], picks[chosen]
        _, last = np.unique(picks[::-1], return_index=True)
        for k in last:
            i, slot = later[::-1][k], picks[::-1][k]
            self.slots[slot] = _row(batch, int(i))

    def rows(self) -> tuple[torch.Tensor, np.ndarray | None, pd.DataFrame | None, np.ndarray]:
        """The sampled rows in data order: inputs, labels, sensitive attributes, indices."""
        order = sorted(range(len(self.slots)), key=lambda s: self.slots[s][0])
        slots = [self.slots[s] for s in order]
        index = np.asarray([s[0] for s in slots], dtype=np.int64)
        x = torch.stack([s[1] for s in slots])
        labels = None if slots[0][2] is None else np.asarray([s[2] for s in slots])
        sensitive = None if slots[0][3] is None else pd.DataFrame([s[3] for s in slots])
        return x, labels, sensitive, index


def _row(batch: Batch, i: int) -> tuple[int, torch.Tensor, Any, Any]:
    return (
        batch.start + i,
        batch.x[i].clone(),
        None if batch.labels is None else batch.labels[i].item(),
        None if batch.sensitive is None else batch.sensitive.iloc[i].to_dict(),
    )


def profile_stream(
    stream: DataStream,
    *,
    tabular: bool,
    sample_size: int,
    seed: int,
    progress: bool = False,
) -> StreamProfile:
    """One pass over ``stream``: row count, ranges, sensitive levels, hash, sample."""
    from tqdm.auto import tqdm

    profile = StreamProfile(sample_seed=int(seed))
    digest = hashlib.sha256()
    reservoir = Reservoir(sample_size, seed)
    level_counts: dict[tuple, int] = {}
    level_columns: list[str] | None = None
    for batch in tqdm(stream, desc="profiling data", unit="batch", disable=not progress):
        x = batch.x
        if profile.n_rows == 0:
            profile.shape = tuple(x.shape[1:])
            profile.has_labels = batch.labels is not None
        elif tuple(x.shape[1:]) != profile.shape:
            raise parameter_error(
                "data",
                _OWNER,
                f"batches of rows shaped {profile.shape}",
                described(f"a batch of rows shaped {tuple(x.shape[1:])} at row {batch.start}"),
            )
        if (batch.labels is not None) != profile.has_labels:
            raise parameter_error(
                "data",
                _OWNER,
                "labels in every batch or in none",
                described(f"a change at row {batch.start}"),
            )
        flat = x.reshape(len(batch), -1) if tabular else x.reshape(1, -1)
        if x.is_floating_point() and not torch.isfinite(flat).all():
            raise parameter_error(
                "data",
                _OWNER,
                "finite values",
                described(f"NaN or infinite values near row {batch.start}"),
            )
        lo = flat.min(dim=0).values.double().numpy()
        hi = flat.max(dim=0).values.double().numpy()
        profile.minimum = lo if profile.minimum is None else np.minimum(profile.minimum, lo)
        profile.maximum = hi if profile.maximum is None else np.maximum(profile.maximum, hi)
        if tabular:
            total = flat.double().sum(dim=0).numpy()
            profile.column_sum = total if profile.column_sum is None else profile.column_sum + total
        digest.update(x.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        if batch.labels is not None:
            labels = as_class_indices(np.asarray(batch.labels))
            if labels is None:
                raise parameter_error("labels", _OWNER, "integer class indices", batch.labels)
            digest.update(labels.tobytes())
            low, high = int(labels.min()), int(labels.max())
            old = profile.label_range or (low, high)
            profile.label_range = (min(old[0], low), max(old[1], high))
        if batch.sensitive is not None:
            frame = batch.sensitive
            if level_columns is None:
                level_columns = list(frame.columns)
            if frame.isna().any().any():
                raise parameter_error(
                    "sensitive",
                    _OWNER,
                    "a group for every sample",
                    described(f"missing values near row {batch.start}"),
                )
            digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
            for key, count in frame.value_counts(sort=False).items():
                key = key if isinstance(key, tuple) else (key,)
                level_counts[key] = level_counts.get(key, 0) + int(count)
        reservoir.offer(batch)
        profile.n_rows += len(batch)
    if profile.n_rows == 0:
        raise parameter_error("data", _OWNER, "at least one sample", described("an empty stream"))
    if level_columns is not None:
        profile.levels = pd.DataFrame(list(level_counts), columns=level_columns)
        profile.levels[LEVEL_COUNT] = list(level_counts.values())
    profile.sha256 = digest.hexdigest()
    x, labels, sensitive, index = reservoir.rows()
    profile.sample_x, profile.sample_labels = x, labels
    profile.sample_sensitive, profile.sample_index = sensitive, index
    return profile


# -- from what the user passed to a stream ------------------------------------------------


class WithColumns(DataStream):
    """A stream whose labels and sensitive attributes are given as whole arrays, in
    data order (they are small next to the inputs), sliced onto each batch."""

    def __init__(
        self, stream: DataStream, labels: np.ndarray | None, sensitive: pd.DataFrame | None
    ) -> None:
        self.stream, self.labels, self.sensitive = stream, labels, sensitive
        self.batch_size = stream.batch_size

    def __iter__(self) -> Iterator[Batch]:
        for batch in self.stream:
            stop = batch.start + len(batch)
            given = self.labels if self.labels is not None else self.sensitive
            if stop > len(given):
                raise parameter_error(
                    "labels" if self.labels is not None else "sensitive",
                    _OWNER,
                    "one value per row of the streamed data",
                    described(f"{len(given)} values for more than {batch.start} rows"),
                )
            if self.labels is not None:
                batch.labels = self.labels[batch.start : stop]
            if self.sensitive is not None:
                batch.sensitive = self.sensitive.iloc[batch.start : stop].reset_index(drop=True)
            yield batch

    def describe(self) -> str:
        return self.stream.describe()


def as_stream(
    data: Any,
    *,
    labels: Any,
    sensitive: Any,
    feature_names: Sequence[str] | None,
    batch_size: int | None,
) -> tuple[DataStream, Any, Any]:
    """The stream of ``data``, and the labels and sensitive attributes still to attach
    as whole arrays (``None`` when the stream's batches carry them).

    ``batch_size`` is the rows read at a time (the model is still called on at most the
    target's batch size): by default a DataLoader's own, 1,024 items of an
    IterableDataset, or 65,536 parquet rows (parquet reads best in large batches).
    """
    if isinstance(data, DataStream):
        return data, labels, sensitive
    if isinstance(data, DataLoader | IterableDataset):
        return LoaderStream(data, batch_size or LOADER_BATCH_ROWS), labels, sensitive
    label_column = labels if isinstance(labels, str) else None
    sensitive_columns = (
        [str(s) for s in sensitive]
        if isinstance(sensitive, list | tuple) and all(isinstance(s, str) for s in sensitive)
        else None
    )
    stream = ParquetStream(
        data,
        features=feature_names,
        label=label_column,
        sensitive=sensitive_columns or (),
        batch_size=batch_size or PARQUET_BATCH_ROWS,
    )
    return (
        stream,
        None if label_column is not None else labels,
        None if sensitive_columns is not None else sensitive,
    )
