"""Groupings: each sensitive attribute and their intersections, as integer codes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepaudit.audit.fairness.inputs import encode_groups
from deepaudit.audit.stream import LEVEL_COUNT
from deepaudit.intersections import join_parts


@dataclass
class Grouping:
    """One way of splitting the samples: an attribute or an intersection of several."""

    name: str  # "sex" or "sex & race"
    attributes: tuple[str, ...]
    codes: np.ndarray  # (N,) index into names
    names: list[str]

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=len(self.names))

    def labels(self) -> np.ndarray:
        """The group label of each sample."""
        return np.asarray(self.names, dtype=object)[self.codes]


def make_groupings(
    sensitive: pd.DataFrame, attributes: Sequence[str], max_order: int, owner: str
) -> list[Grouping]:
    """Every attribute, then every intersection of 2 .. ``max_order`` attributes.

    An intersection that splits the samples exactly as a grouping before it does (one
    attribute determines the other) is skipped.
    """
    out: list[Grouping] = []
    seen: set[tuple[int, ...]] = set()
    for order in range(1, min(max_order, len(attributes)) + 1):
        for combo in itertools.combinations(attributes, order):
            codes, names = encode_groups(sensitive[list(combo)], len(sensitive), owner)
            signature = _partition_signature(codes)
            if order > 1 and signature in seen:
                continue
            seen.add(signature)
            out.append(Grouping(join_parts(combo), combo, codes, names))
    return out


def _partition_signature(codes: np.ndarray) -> tuple[int, ...]:
    """Codes renumbered by first appearance: equal for equal partitions of the samples."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return tuple(rank[inverse].tolist())


def codes_table(groupings: Sequence[Grouping]) -> list[dict]:
    """The code -> label mapping of every grouping (column ``column`` of the codes array)."""
    return [
        {
            "grouping": grouping.name,
            "column": j,
            "code": code,
            "group": name,
            "count": int(count),
        }
        for j, grouping in enumerate(groupings)
        for code, (name, count) in enumerate(zip(grouping.names, grouping.counts, strict=True))
    ]


def codes_array(groupings: Sequence[Grouping]) -> np.ndarray:
    """(N, number of groupings) int32 codes, one column per grouping."""
    return np.stack([g.codes for g in groupings], axis=1).astype(np.int32)


@dataclass
class LevelGrouping:
    """A grouping known from the distinct attribute combinations (``levels``) alone, for
    data that streams: it encodes each batch's attributes into its group codes."""

    name: str
    attributes: tuple[str, ...]
    names: list[str]
    counts: np.ndarray  # rows per group, over the whole data
    values: dict[str, list]  # each attribute's distinct values
    lookup: np.ndarray  # flat index of the attributes' value codes -> group code

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """The group code of every row of ``frame`` (a batch's sensitive attributes)."""
        parts = []
        for attribute in self.attributes:
            codes = pd.Categorical(frame[attribute], categories=self.values[attribute]).codes
            if (codes < 0).any():
                unknown = frame[attribute][codes < 0].iloc[0]
                raise ValueError(
                    f"{attribute}={unknown!r} was not in the data when it was profiled: "
                    "the stream changed between passes."
                )
            parts.append(codes.astype(np.int64))
        dims = [len(self.values[a]) for a in self.attributes]
        return self.lookup[np.ravel_multi_index(parts, dims)]


def groupings_from_levels(
    levels: pd.DataFrame, attributes: Sequence[str], max_order: int
) -> list[LevelGrouping]:
    """The groupings :func:`make_groupings` makes, from the distinct combinations of the
    attributes and their counts: same names, order and skipped redundant intersections."""
    out: list[LevelGrouping] = []
    seen: set[tuple[int, ...]] = set()
    values = {a: sorted(levels[a].unique(), key=str) for a in attributes}
    weights = levels[LEVEL_COUNT].to_numpy(dtype=np.int64)
    for order in range(1, min(max_order, len(attributes)) + 1):
        for combo in itertools.combinations(attributes, order):
            codes = [
                pd.Categorical(levels[a], categories=values[a]).codes.astype(np.int64)
                for a in combo
            ]
            dims = [len(values[a]) for a in combo]
            flat = np.ravel_multi_index(codes, dims)
            labels = np.asarray(
                [
                    join_parts(values[a][c] for a, c in zip(combo, row, strict=True))
                    for row in zip(*codes, strict=True)
                ],
                dtype=object,
            )
            names = sorted(set(labels.tolist()))
            rank = {name: i for i, name in enumerate(names)}
            group = np.asarray([rank[label] for label in labels], dtype=np.int64)
            signature = _partition_signature(group)
            if order > 1 and signature in seen:
                continue
            seen.add(signature)
            lookup = np.full(int(np.prod(dims)), -1, dtype=np.int64)
            lookup[flat] = group
            out.append(
                LevelGrouping(
                    join_parts(combo),
                    combo,
                    names,
                    np.bincount(group, weights=weights, minlength=len(names)).astype(np.int64),
                    values,
                    lookup,
                )
            )
    return out
