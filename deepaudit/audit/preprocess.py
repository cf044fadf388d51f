"""Raw tabular data behind a preprocessing step: which model columns each raw column makes.

A user's model reads encoded columns (one-hot blocks, scaled numbers), but the user knows
the raw ones (``workclass``, ``age``). Given a fitted scikit-learn transformer
(``ColumnTransformer``, ``Pipeline``) or a callable from a raw DataFrame to model inputs,
:func:`encode_raw` finds which encoded columns each raw column makes, by changing that
raw column alone and seeing which encoded columns move. Each raw column then becomes one
logical feature of the Target (a categorical one when its values are not numbers), so
every audit explains, perturbs and names raw columns; :class:`RawColumns` turns encoded
rows back into raw values for the report and the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from deepaudit.errors import described, parameter_error

_OWNER = "Target"


@dataclass
class RawColumns:
    """How the raw columns map onto the encoded ones, and back."""

    columns: list[str]
    encoded_names: list[str]
    groups: dict[str, list[int]]
    categorical: list[str]
    #: Categorical columns: each category's encoded pattern (over the group's columns).
    patterns: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)
    #: Numeric columns: encoded = slope * raw + intercept, when the map is affine.
    affine: dict[str, tuple[float, float]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data, saved in the bundle, so that views decode saved rows without torch."""
        return {
            "columns": self.columns,
            "encoded_names": self.encoded_names,
            "groups": self.groups,
            "categorical": self.categorical,
            "patterns": {c: {v: list(p) for v, p in ps.items()} for c, ps in self.patterns.items()},
            "affine": {c: list(a) for c, a in self.affine.items()},
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RawColumns:
        return cls(
            columns=list(data["columns"]),
            encoded_names=list(data["encoded_names"]),
            groups={c: list(v) for c, v in data["groups"].items()},
            categorical=list(data["categorical"]),
            patterns={
                c: {v: tuple(p) for v, p in ps.items()} for c, ps in data["patterns"].items()
            },
            affine={c: (float(a[0]), float(a[1])) for c, a in data["affine"].items()},
            dropped=list(data.get("dropped", [])),
        )

    def decode(self, encoded: np.ndarray) -> pd.DataFrame:
        """Raw values of encoded rows: the category whose pattern is nearest, the number
        the affine map gives back (NaN where the map is not affine)."""
        encoded = np.asarray(encoded, dtype=np.float64).reshape(-1, len(self.encoded_names))
        out = {}
        for column, cols in self.groups.items():
            block = encoded[:, cols]
            if column in self.patterns:
                names = list(self.patterns[column])
                table = np.asarray([self.patterns[column][n] for n in names])
                nearest = ((block[:, None, :] - table[None]) ** 2).sum(axis=2).argmin(axis=1)
                out[column] = [names[i] for i in nearest]
            elif column in self.affine:
                slope, intercept = self.affine[column]
                out[column] = (block[:, 0] - intercept) / slope
            else:
                out[column] = np.full(len(block), np.nan)
        return pd.DataFrame(out)

    def note(self) -> str:
        """What a reader of the audit must know about the columns it names."""
        merged = [c for c in self.categorical if len(self.groups[c]) > 1]
        text = (
            f"The model reads {len(self.encoded_names)} encoded columns made by preprocess= "
            f"from {len(self.groups)} raw columns; the audit names raw columns"
        )
        if merged:
            text += (
                f", and the attributions of the encoded columns of {', '.join(merged)} are "
                "summed to their raw column"
            )
        if self.dropped:
            text += f". Raw columns the preprocessing drops: {', '.join(self.dropped)}"
        return text + "."


def encode_raw(preprocess: Any, raw: Any, seed: int = 0) -> tuple[np.ndarray, RawColumns]:
    """The encoded rows of ``raw`` and how its columns map onto them."""
    if not isinstance(raw, pd.DataFrame):
        raise parameter_error(
            "data", _OWNER, "a pandas DataFrame of raw columns when preprocess= is given", raw
        )
    transform = _transform_of(preprocess)
    encoded = _encode(transform, raw)
    columns = [str(c) for c in raw.columns]
    rng = np.random.default_rng(seed)
    owners: dict[int, list[str]] = {}
    groups: dict[str, list[int]] = {}
    for column in raw.columns:
        changed = raw.copy()
        changed[column] = _shuffled(raw[column], rng)
        moved = np.nonzero(~np.isclose(_encode(transform, changed), encoded).all(axis=0))[0]
        groups[str(column)] = [int(j) for j in moved]
        for j in moved:
            owners.setdefault(int(j), []).append(str(column))
    shared = {j: names for j, names in owners.items() if len(names) > 1}
    if shared:
        j, names = next(iter(shared.items()))
        raise parameter_error(
            "preprocess",
            _OWNER,
            "a transformer whose every output column is made from one raw column (so "
            "that attributions can be summed back to it)",
            described(f"encoded column {j} made from {names}"),
        )
    orphans = [j for j in range(encoded.shape[1]) if j not in owners]
    if orphans:
        raise parameter_error(
            "preprocess",
            _OWNER,
            "a transformer whose every output column changes with some raw column",
            described(f"encoded columns {orphans[:5]} that no raw column moves (constants?)"),
        )
    dropped = [c for c in columns if not groups[c]]
    groups = {c: cols for c, cols in groups.items() if cols}
    categorical = [c for c in groups if not pd.api.types.is_numeric_dtype(raw[c])]
    numeric_blocks = [c for c in groups if c not in categorical and len(groups[c]) > 1]
    if numeric_blocks:
        raise parameter_error(
            "preprocess",
            _OWNER,
            "one encoded column per numeric raw column (a category may have several)",
            described(f"{numeric_blocks[0]!r} made into {len(groups[numeric_blocks[0]])} columns"),
        )
    mapping = RawColumns(columns, [""] * encoded.shape[1], groups, categorical, dropped=dropped)
    for column, cols in groups.items():
        if column in categorical:
            mapping.patterns[column] = _patterns(raw[column], encoded[:, cols])
            for k, j in enumerate(cols):
                hot = [v for v, p in mapping.patterns[column].items() if p[k] == 1.0]
                name = f"{column}={hot[0]}" if len(hot) == 1 else f"{column}[{k}]"
                mapping.encoded_names[j] = name
        else:
            mapping.encoded_names[cols[0]] = column
            fit = _affine(raw[column].to_numpy(dtype=np.float64), encoded[:, cols[0]])
            if fit is not None:
                mapping.affine[column] = fit
    return encoded.astype(np.float32), mapping


def _transform_of(preprocess: Any) -> Callable[[pd.DataFrame], Any]:
    if hasattr(preprocess, "transform") and callable(preprocess.transform):
        try:
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(preprocess)
        except ImportError:  # pragma: no cover - scikit-learn is a dependency
            pass
        except Exception as exc:
            raise parameter_error(
                "preprocess",
                _OWNER,
                "a fitted transformer (call .fit(train_frame) first)",
                described(f"an unfitted {type(preprocess).__name__}"),
            ) from exc
        return preprocess.transform
    if callable(preprocess):
        return preprocess
    raise parameter_error(
        "preprocess",
        _OWNER,
        "a fitted scikit-learn transformer (ColumnTransformer, Pipeline) or a function "
        "from a raw DataFrame to model inputs",
        preprocess,
    )


def _encode(transform: Callable, raw: pd.DataFrame) -> np.ndarray:
    try:
        out = transform(raw)
    except Exception as exc:
        raise parameter_error(
            "preprocess",
            _OWNER,
            "a transformer that accepts the raw data (the columns it was fitted on)",
            described(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"),
        ) from exc
    if hasattr(out, "toarray"):  # scipy sparse (OneHotEncoder's default)
        out = out.toarray()
    if isinstance(out, pd.DataFrame):
        out = out.to_numpy()
    out = np.asarray(out)
    if out.ndim != 2 or len(out) != len(raw) or not np.issubdtype(out.dtype, np.number):
        raise parameter_error(
            "preprocess",
            _OWNER,
            f"numeric model inputs of shape ({len(raw)}, F), one row per raw row",
            described(f"an output of shape {out.shape} and dtype {out.dtype}"),
        )
    out = out.astype(np.float64)
    if not np.isfinite(out).all():
        raise parameter_error(
            "preprocess", _OWNER, "finite model inputs", described("NaN or infinite outputs")
        )
    return out


def _shuffled(series: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """The column with every value moved to another row where it can be (each distinct
    value shows up elsewhere, so every encoded column it drives moves)."""
    values = series.to_numpy()
    order = rng.permutation(len(values))
    moved = values[order]
    if len(values) > 1:
        same = moved == values
        moved[same] = np.roll(values, 1)[same]
    return moved


def _patterns(series: pd.Series, block: np.ndarray) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    for value in pd.unique(series.astype(str)):
        rows = np.nonzero(series.astype(str).to_numpy() == value)[0]
        out[str(value)] = tuple(float(v) for v in block[rows[0]])
    return out


def _affine(raw: np.ndarray, encoded: np.ndarray) -> tuple[float, float] | None:
    """``(slope, intercept)`` when encoded = slope · raw + intercept on every row."""
    if not np.isfinite(raw).all() or np.ptp(raw) == 0:
        return None
    slope, intercept = np.polyfit(raw, encoded, 1)
    if slope == 0 or not np.allclose(slope * raw + intercept, encoded, atol=1e-6, rtol=1e-6):
        return None
    return float(slope), float(intercept)
