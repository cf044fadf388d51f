"""The findings grid: every audited model against every family (or check), worst first.

Pure data (no streamlit): the Findings page draws these cells as buttons, each leading to
the findings and the evidence view behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from deepaudit.results import SEVERITY_RANK as _RANK
from deepaudit.results import AuditBundle, Finding, worst_first


@dataclass
class Cell:
    """One model and one family (or check): its worst severity and its findings.

    ``severity`` is ``None`` when the family did not run on the model (or the check did
    not apply), and ``"pass"`` when it ran without any finding.
    """

    model: str
    column: str
    severity: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many findings share the worst severity."""
        return sum(f.severity == self.severity for f in self.findings)


def column_names(bundles: Mapping[str, AuditBundle], by: str = "family") -> list[str]:
    """Families (``by="family"``) or ``family/check`` names, in the order audits ran them."""
    columns: list[str] = []
    for bundle in bundles.values():
        for family, result in bundle.families.items():
            names = [family] if by == "family" else [f"{family}/{f.check}" for f in result.findings]
            columns.extend(n for n in names if n not in columns)
    return columns


def findings_grid(bundles: Mapping[str, AuditBundle], by: str = "family") -> list[list[Cell]]:
    """One row per model (in the order given), one :class:`Cell` per column."""
    if by not in ("family", "check"):
        raise ValueError(f"by must be 'family' or 'check', got {by!r}")
    columns = column_names(bundles, by)
    rows = []
    for model, bundle in bundles.items():
        row = []
        for column in columns:
            family, _, check = column.partition("/")
            if family not in bundle.families:
                row.append(Cell(model, column, None))
                continue
            found = [f for f in bundle.families[family].findings if not check or f.check == check]
            if check and not found:
                row.append(Cell(model, column, None))
                continue
            found = worst_first(found)
            row.append(Cell(model, column, found[0].severity if found else "pass", found))
        rows.append(row)
    return rows


def grid_frame(bundles: Mapping[str, AuditBundle], by: str = "family") -> pd.DataFrame:
    """The grid as a table of severities (``None`` where not run), models as the index."""
    columns = column_names(bundles, by)
    data = [[cell.severity for cell in row] for row in findings_grid(bundles, by)]
    return pd.DataFrame(data, index=list(bundles), columns=columns, dtype=object)


def worst_of(severities) -> str | None:
    """The worst of some severities (``None`` entries ignored; ``None`` if all are)."""
    present = [s for s in severities if s is not None]
    return min(present, key=_RANK.__getitem__) if present else None
