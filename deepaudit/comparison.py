"""Two runs of an audit compared finding by finding: what is new, worse, better or gone.

Findings are matched by their stable ids (family, check, subject), so a baseline run and
the run of a new model version line up whatever their numbers. A regression is a finding
that is new and not a pass, or whose severity got worse, or a new run that stopped
part-way (its missing findings would otherwise read as resolved). This module reads
bundles only: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepaudit.results import SEVERITY_RANK, AuditBundle

#: The kinds of change, worst first; the first three are regressions.
KINDS = ("incomplete", "new", "worsened", "improved", "resolved", "added")
REGRESSIONS = ("incomplete", "new", "worsened")


@dataclass(frozen=True)
class Change:
    """One finding whose severity differs between the base run and the new one."""

    id: str
    kind: str
    before: str | None
    after: str | None
    message: str

    @property
    def is_regression(self) -> bool:
        return self.kind in REGRESSIONS

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "message": self.message,
        }


def compare_runs(base: AuditBundle, new: AuditBundle) -> list[Change]:
    """Every finding whose severity changed from ``base`` to ``new``, regressions first."""
    before = {f.id: f for f in base.findings}
    after = {f.id: f for f in new.findings}
    changes = []
    if new.incomplete_text is not None:
        changes.append(
            Change("deepaudit.incomplete", "incomplete", None, None, new.incomplete_text)
        )
    for key in dict.fromkeys([*before, *after]):
        old, now = before.get(key), after.get(key)
        kind = _kind(old and old.severity, now and now.severity)
        if kind is not None:
            shown = now if now is not None else old
            changes.append(
                Change(key, kind, old and old.severity, now and now.severity, shown.message)
            )
    return sorted(changes, key=lambda c: KINDS.index(c.kind))


def _kind(before: str | None, after: str | None) -> str | None:
    if before == after:
        return None
    if before is None:
        return "added" if after == "pass" else "new"
    if after is None:
        return "resolved"
    return "worsened" if SEVERITY_RANK[after] < SEVERITY_RANK[before] else "improved"


def regressions(changes: list[Change]) -> list[Change]:
    """The changes a CI gate fails on."""
    return [c for c in changes if c.is_regression]


def same_subject(base: AuditBundle, new: AuditBundle) -> str | None:
    """Why the two runs may not be comparable (another kind of model or data), or None."""
    differs = [key for key in ("kind", "modality") if base.target.get(key) != new.target.get(key)]
    if differs:
        return (
            "the runs audit different targets ("
            + ", ".join(f"{k} {base.target.get(k)!r} vs {new.target.get(k)!r}" for k in differs)
            + ")"
        )
    return None
