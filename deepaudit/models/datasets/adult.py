"""UCI Adult census income: reading the public files and encoding them for models.

The public ``adult.data`` / ``adult.test`` files are comma-separated without a header;
``adult.test`` starts with a ``|1x3 Cross validator`` line and its labels end in ``.``
(``>50K.``); missing values are ``?``. :func:`load_adult` reads either file, gzipped or
not (a header row, as some re-distributions have, is accepted too). The vendored copies
in the package are read by :func:`load_vendored_adult`.

:class:`AdultEncoding` turns the raw columns into model inputs. It is fitted on the
training split only and saved as plain JSON in a checkpoint's manifest.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from deepaudit.errors import ValidationError
from deepaudit.models.datasets._files import open_maybe_gzip, package_data_path, sha256_files

COLUMNS_MESSAGE = (
    "{path} is not an Adult census file: expected {expected} comma-separated fields per "
    "row. Got {got} instead."
)
LABEL_MESSAGE = "{path} has income labels other than '<=50K' and '>50K': {values}."

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
LABEL = "income"
CLASS_NAMES = ("<=50K", ">50K")
NUMERIC = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")
CATEGORICAL = (
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
)
# fnlwgt is the census's sampling weight, not a property of the person: left out.
FEATURES = tuple(c for c in COLUMNS if c in NUMERIC or c in CATEGORICAL)
LOG_COLUMNS = ("capital-gain", "capital-loss")
UNKNOWN = "Unknown"
SENSITIVE = ("sex", "race", "age_band")
AGE_BANDS = ("<30", "30-50", ">50")
VENDORED = ("adult.data.gz", "adult.test.gz")


def read_adult_file(path: str | os.PathLike) -> pd.DataFrame:
    """Read one Adult file (``adult.data`` or ``adult.test`` format, gzipped or not).

    Returns the 15 named columns with ``NaN`` for missing (``?``) values and the
    ``income`` column as 0 (``<=50K``) / 1 (``>50K``).
    """
    with open_maybe_gzip(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("|")]
    if lines and lines[0].split(",")[0].strip().lower() == "age":
        lines = lines[1:]  # a header row
    frame = pd.read_csv(
        io.StringIO("\n".join(lines)),
        header=None,
        skipinitialspace=True,
        na_values=["?"],
        dtype=str,
    )
    if frame.shape[1] != len(COLUMNS):
        raise ValidationError(
            COLUMNS_MESSAGE.format(path=path, expected=len(COLUMNS), got=frame.shape[1])
        )
    frame.columns = COLUMNS
    for column in COLUMNS:
        frame[column] = frame[column].str.strip()
    income = frame[LABEL].str.rstrip(".")
    bad = sorted(set(income.dropna()) - set(CLASS_NAMES))
    if bad or income.isna().any():
        raise ValidationError(LABEL_MESSAGE.format(path=path, values=bad or ["missing"]))
    frame[LABEL] = (income == CLASS_NAMES[1]).astype(np.int64)
    for column in (
        "age",
        "fnlwgt",
        "education-num",
        "capital-gain",
        "capital-loss",
        "hours-per-week",
    ):
        frame[column] = pd.to_numeric(frame[column]).astype(np.float64)
    return frame


def load_adult(
    path_train: str | os.PathLike, path_test: str | os.PathLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read the public Adult training file and, when given, the test file.

    Parameters
    ----------
    path_train, path_test
        Paths of ``adult.data`` and ``adult.test`` (gzipped or not).

    Returns
    -------
    (train, test)
        DataFrames with the columns of :data:`COLUMNS`; ``test`` is ``None`` when no
        ``path_test`` is given.
    """
    train = read_adult_file(path_train)
    test = None if path_test is None else read_adult_file(path_test)
    return train, test


@functools.lru_cache(maxsize=1)
def _vendored() -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = load_adult(*(package_data_path(f) for f in VENDORED))
    assert test is not None
    return train, test


def load_vendored_adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Adult files shipped in the package (copies: callers may change them)."""
    train, test = _vendored()
    return train.copy(), test.copy()


def vendored_sha256() -> str:
    """sha256 of the vendored Adult files' bytes."""
    return sha256_files(*(package_data_path(f) for f in VENDORED))


def age_band(age: pd.Series | np.ndarray) -> np.ndarray:
    """``"<30"``, ``"30-50"`` or ``">50"`` per age."""
    age = np.asarray(age, dtype=float)
    return np.where(age < 30, AGE_BANDS[0], np.where(age <= 50, AGE_BANDS[1], AGE_BANDS[2]))


def sensitive_attributes(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The sensitive attributes of each row: sex, race and age band (as strings)."""
    return {
        "sex": frame["sex"].fillna(UNKNOWN).to_numpy(dtype=object).astype(str),
        "race": frame["race"].fillna(UNKNOWN).to_numpy(dtype=object).astype(str),
        "age_band": age_band(frame["age"]),
    }


@dataclass(frozen=True)
class AdultEncoding:
    """Category lists and scaling of the Adult features, fitted on training rows.

    Numeric columns are standardised (capital gain and loss after ``log1p``).
    Categorical columns become integer codes (code 0 is ``"Unknown"``: missing or
    unseen) or one-hot columns named ``"<feature>=<category>"``.
    """

    categories: Mapping[str, list[str]]
    means: Mapping[str, float]
    stds: Mapping[str, float]
    log1p: tuple[str, ...] = LOG_COLUMNS
    features: tuple[str, ...] = FEATURES

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> AdultEncoding:
        categories = {
            c: [UNKNOWN, *sorted(set(frame[c].dropna()) - {UNKNOWN})] for c in CATEGORICAL
        }
        numeric = {c: cls._numeric(frame[c], c) for c in NUMERIC}
        means = {c: float(v.mean()) for c, v in numeric.items()}
        stds = {c: float(v.std()) or 1.0 for c, v in numeric.items()}
        return cls(categories=categories, means=means, stds=stds)

    @staticmethod
    def _numeric(
        values: pd.Series, column: str, log1p: tuple[str, ...] = LOG_COLUMNS
    ) -> np.ndarray:
        v = values.to_numpy(dtype=np.float64)
        return np.log1p(np.clip(v, 0, None)) if column in log1p else v

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": {k: list(v) for k, v in self.categories.items()},
            "means": dict(self.means),
            "stds": dict(self.stds),
            "log1p": list(self.log1p),
            "features": list(self.features),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> AdultEncoding:
        return cls(
            categories={k: list(v) for k, v in state["categories"].items()},
            means={k: float(v) for k, v in state["means"].items()},
            stds={k: float(v) for k, v in state["stds"].items()},
            log1p=tuple(state["log1p"]),
            features=tuple(state["features"]),
        )

    def _scaled(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        v = self._numeric(frame[column], column, self.log1p)
        return (v - self.means[column]) / self.stds[column]

    def _codes(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.categories[column])}
        return frame[column].map(index).fillna(0).to_numpy(dtype=np.int64)

    @property
    def cardinalities(self) -> list[int]:
        """Per feature: 0 for numeric, the number of categories for categorical."""
        return [len(self.categories[f]) if f in self.categories else 0 for f in self.features]

    def encode_codes(self, frame: pd.DataFrame) -> np.ndarray:
        """``N×F`` float32: standardised numerics, categorical codes as floats."""
        cols = [
            self._codes(frame, f).astype(np.float64)
            if f in self.categories
            else self._scaled(frame, f)
            for f in self.features
        ]
        return np.stack(cols, axis=1).astype(np.float32)

    def onehot_names(self) -> tuple[list[str], dict[str, list[str]]]:
        """Column names of the one-hot encoding and each categorical feature's columns."""
        names: list[str] = []
        groups: dict[str, list[str]] = {}
        for f in self.features:
            if f in self.categories:
                groups[f] = [f"{f}={c}" for c in self.categories[f]]
                names.extend(groups[f])
            else:
                names.append(f)
        return names, groups

    def encode_onehot(self, frame: pd.DataFrame) -> np.ndarray:
        """``N×D`` float32: standardised numerics and one-hot categorical columns."""
        blocks = []
        for f in self.features:
            if f in self.categories:
                codes = self._codes(frame, f)
                block = np.zeros((len(frame), len(self.categories[f])), dtype=np.float64)
                block[np.arange(len(frame)), codes] = 1.0
                blocks.append(block)
            else:
                blocks.append(self._scaled(frame, f)[:, None])
        return np.concatenate(blocks, axis=1).astype(np.float32)


def adult_splits(seed: int = 0, validation_fraction: float = 0.1) -> dict[str, pd.DataFrame]:
    """The vendored data as train / validation (from ``adult.data``, stratified by
    income) and test (all of ``adult.test``, the held-out split)."""
    from deepaudit.models.datasets._files import stratified_split

    data, test = load_vendored_adult()
    train_idx, val_idx = stratified_split(
        data[LABEL].to_numpy(), (1 - validation_fraction, validation_fraction), seed
    )
    return {
        "train": data.iloc[train_idx].reset_index(drop=True),
        "validation": data.iloc[val_idx].reset_index(drop=True),
        "test": test.reset_index(drop=True),
    }
