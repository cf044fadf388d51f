"""Groupings: each sensitive attribute and their intersections, as integer codes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepaudit.audit.fairness.inputs import INTERSECTION_SEPARATOR, encode_groups


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
            out.append(Grouping(INTERSECTION_SEPARATOR.join(combo), combo, codes, names))
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
