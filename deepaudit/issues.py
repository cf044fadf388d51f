"""Issues: the findings of an audit grouped by what they are about.

A reviewer wants the two or three problems that matter, not forty checks. Each family
says what each of its findings concerns (:meth:`deepaudit.families.Family.concerns`):
a sensitive attribute, a feature, a region of the input, a class, an explanation method,
or only the check itself. Findings that concern the same thing form one :class:`Issue`,
across families: on the coloured-digit CNN the colour gaps, the recolouring flips, the
attribution on colour and the accuracy gap by cue are one issue, "colour".

Two rules make the grouping follow causes rather than names:

- a finding on an intersection (``colour & cue``) joins the issue of the attribute in it
  whose own findings are worst: the marginal that explains the gap;
- an attribute derived from another (``Target(metadata={"derived_attributes": {"cue":
  "colour"}})``: whether the colour agrees with the class) shares that attribute's issue.

Pure functions of a bundle's findings: no model, no data, no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepaudit.intersections import split_parts
from deepaudit.results import SEVERITIES, severity_tally, worst_first
from deepaudit.results import SEVERITY_RANK as RANK

if TYPE_CHECKING:
    from deepaudit.results import AuditBundle, Finding

#: What a finding can concern, in the order issues of equal severity are listed.
CONCERN_KINDS = ("attribute", "feature", "region", "class", "method", "data", "check")

_KIND_LABELS = {
    "attribute": "Sensitive attribute",
    "feature": "Feature",
    "region": "Region",
    "class": "Class",
    "method": "Explanation method",
    "data": "Data",
    "check": "Check",
}


@dataclass(frozen=True)
class Concern:
    """What a finding is about: ``kind`` (one of :data:`CONCERN_KINDS`) and a name."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in CONCERN_KINDS:
            from deepaudit.errors import parameter_error

            raise parameter_error(
                "kind", "Concern", "one of " + ", ".join(map(repr, CONCERN_KINDS)), self.kind
            )

    @property
    def id(self) -> str:
        from deepaudit.results import slug

        return f"{self.kind}.{slug(self.name)}"


@dataclass(frozen=True)
class Issue:
    """Findings about one thing: a title in words, the worst severity, what to do next.

    ``findings`` are the ids of the findings behind it (worst first), so every finding
    stays reachable under its issue.
    """

    id: str
    title: str
    severity: str
    concern: Concern
    findings: tuple[str, ...]
    next_step: str
    counts: Mapping[str, int]

    @property
    def n_findings(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "kind": self.concern.kind,
            "subject": self.concern.name,
            "n_findings": self.n_findings,
            "counts": dict(self.counts),
            "findings": list(self.findings),
            "next_step": self.next_step,
        }


# -- what a finding concerns (helpers for the families) ------------------------------------


def grouping_attributes(group: str | None) -> list[str]:
    """The attributes of a fairness evidence group: ``"sex & race: a & b vs c & d"`` ->
    ``["sex", "race"]``; ``"colour=brown"`` -> ``["colour"]``; else ``[]``."""
    if not group:
        return []
    if ": " in group:
        head = group.split(": ", 1)[0]
    elif "=" in group:
        head = group.split("=", 1)[0]
    else:
        return []
    return [part.strip() for part in split_parts(head) if part.strip()]


def check_concern(finding: Finding) -> Concern:
    """The finding's own check: what a finding concerns when it names nothing else."""
    return Concern("check", f"{finding.family}.{finding.check}")


def default_concerns(finding: Finding, attributes: Sequence[str]) -> tuple[Concern, ...]:
    """A family without rules of its own: the attributes its evidence group names (when
    they are audited attributes), else the check."""
    named = [a for a in grouping_attributes(finding.evidence.group) if a in attributes]
    if not named and finding.subject in attributes:
        named = [finding.subject]
    if named:
        return tuple(Concern("attribute", a) for a in named)
    return (check_concern(finding),)


# -- grouping -------------------------------------------------------------------------------


def audited_attributes(bundle: AuditBundle) -> list[str]:
    """The sensitive attributes the bundle's target carried."""
    return [str(name) for name in (bundle.target.get("sensitive") or {})]


def derived_attributes(bundle: AuditBundle) -> dict[str, str]:
    """``metadata["derived_attributes"]``: attribute -> the attribute it is computed from."""
    derived = (bundle.target.get("metadata") or {}).get("derived_attributes") or {}
    return {str(k): str(v) for k, v in derived.items()} if isinstance(derived, Mapping) else {}


def finding_concerns(bundle: AuditBundle) -> list[tuple[Finding, tuple[Concern, ...]]]:
    """Every finding with what its family says it concerns."""
    from deepaudit.families import find_family

    attributes = audited_attributes(bundle)
    out = []
    for finding in bundle.findings:
        family = find_family(finding.family)
        concerns = (
            family.concerns(finding, attributes)
            if family is not None
            else default_concerns(finding, attributes)
        )
        out.append((finding, tuple(concerns) or (check_concern(finding),)))
    return out


def _root(name: str, derived: Mapping[str, str]) -> str:
    seen = set()
    while name in derived and name not in seen:
        seen.add(name)
        name = derived[name]
    return name


def assign(
    pairs: Sequence[tuple[Finding, tuple[Concern, ...]]], derived: Mapping[str, str]
) -> list[tuple[Finding, Concern]]:
    """One concern per finding: derived attributes folded into their source, and a finding
    on several attributes given to the one whose single-attribute findings are worst."""
    folded = []
    for finding, concerns in pairs:
        mapped = []
        for c in concerns:
            c = Concern(c.kind, _root(c.name, derived)) if c.kind == "attribute" else c
            if c not in mapped:
                mapped.append(c)
        folded.append((finding, mapped))
    own: dict[Concern, int] = {}
    for finding, concerns in folded:
        if len(concerns) == 1:
            rank = RANK[finding.severity]
            own[concerns[0]] = min(own.get(concerns[0], len(SEVERITIES)), rank)
    assigned = []
    for finding, concerns in folded:
        best = min(enumerate(concerns), key=lambda ic: (own.get(ic[1], len(SEVERITIES)), ic[0]))[1]
        assigned.append((finding, best))
    return assigned


def group_issues(bundle: AuditBundle) -> list[Issue]:
    """The bundle's findings as issues, worst first (then the most failing checks)."""
    assigned = assign(finding_concerns(bundle), derived_attributes(bundle))
    grouped: dict[Concern, list[Finding]] = {}
    for finding, concern in assigned:
        grouped.setdefault(concern, []).append(finding)
    labels = method_labels(bundle)
    issues = [
        make_issue(concern, found, labels.get(concern.name) if concern.kind == "method" else None)
        for concern, found in grouped.items()
    ]
    return sorted(
        issues,
        key=lambda i: (
            RANK[i.severity],
            -sum(i.counts[s] for s in SEVERITIES[: RANK["pass"]]),
            CONCERN_KINDS.index(i.concern.kind),
            i.id,
        ),
    )


def method_labels(bundle: AuditBundle) -> dict[str, str]:
    """Method key -> its label (``gradient_shap`` -> ``GradientSHAP``), from the tables."""
    labels: dict[str, str] = {}
    for result in bundle.families.values():
        for rows in result.tables.values():
            for row in rows[:50] if isinstance(rows, list) else []:
                if isinstance(row, Mapping) and "method" in row and "label" in row:
                    labels.setdefault(str(row["method"]), str(row["label"]))
    return labels


def make_issue(concern: Concern, found: Sequence[Finding], label: str | None = None) -> Issue:
    """The issue of ``found`` (findings about ``concern``); ``label`` names it in words."""
    found = worst_first(found)
    severity = found[0].severity
    counts = severity_tally(found)
    return Issue(
        id=concern.id,
        title=issue_title(concern, found, label),
        severity=severity,
        concern=concern,
        findings=tuple(f.id for f in found),
        next_step=next_step(concern, severity),
        counts=counts,
    )


# -- words ------------------------------------------------------------------------------------

#: (family, check prefix) -> what a failing finding of that check says, in a few words.
_PHRASES: dict[tuple[str, str], str] = {
    ("fairness", "counterfactual"): "changing it changes predictions",
    ("fairness", "identity_swap"): "swapping its terms moves the score",
    ("fairness", "identity_data"): "swapping its terms in the data changes predictions",
    ("fairness", "small_groups"): "groups too small for a verdict",
    ("fairness", "class_coverage"): "generated too rarely",
    ("fairness", "mitigation"): "mitigation makes it worse",
    ("explain", "proxy"): "a feature stands in for it",
    ("explain", "sensitive_share"): "the model's attribution rests on it",
    ("explain", "colour_share"): "attribution falls on colour",
    ("explain", "region"): "attribution concentrates on it",
    ("explain", "randomisation"): "maps do not depend on the weights",
    ("explain", "stability"): "maps change with the seed",
    ("explain", "faithfulness"): "maps do not order features by effect",
    ("explain", "completeness"): "attributions do not add up",
    ("robustness", "robustness_gap"): "robustness differs between groups",
    ("generative", "coverage"): "real samples left uncovered",
    ("overview", "class_recall"): "recognised too rarely",
}


def phrase(finding: Finding) -> str:
    """A few words on what ``finding`` found."""
    for (family, prefix), words in _PHRASES.items():
        if finding.family == family and finding.check.startswith(prefix):
            return words
    if finding.family == "fairness":
        return "gaps between groups"
    return finding.check.replace("_", " ")


#: family.check -> what a failing check means, in words (checks that concern nothing else).
_CHECK_PHRASES = {
    "overview.accuracy": "accuracy below its floor",
    "overview.calibration": "probabilities do not match observed frequencies",
    "overview.generalisation": "errors grow on new data",
    "overview.flag_rate": "anomaly flag rate off",
    "overview.labels": "labels do not fit the model",
    "overview.range": "generated values leave the valid range",
    "overview.sample_statistics": "generated statistics differ from the real data's",
    "robustness.natural_perturbations": "natural perturbations take accuracy down",
    "robustness.word_substitution": "swapping a few words for their neighbours flips predictions",
    "robustness.sanity": "the attack's own sanity checks fail",
    "robustness.latent_stability": "small moves of the latent code change the generated class",
    "robustness.flag_normal": "small perturbations get normal samples flagged",
    "robustness.hide_anomaly": "small perturbations hide anomalies",
    "generative.fidelity": "generated samples off the real data's manifold",
    "generative.mode_collapse": "generated samples lack diversity",
    "generative.frechet_distance": "generated samples far from real ones",
    "generative.memorisation": "generated samples copy training samples",
    "generative.error_shift": "reconstruction errors shift on held-out data",
    "explain.latent_sensitivity": "latent dimensions ignored",
}


def concern_label(concern: Concern, label: str | None = None) -> str:
    """``Sensitive attribute 'colour'``; a check reads as its family and its words."""
    if concern.kind == "check":
        family, _, check = concern.name.partition(".")
        return f"{family.capitalize()}: {check.replace('_', ' ')}"
    if concern.kind == "data":
        return concern.name[:1].upper() + concern.name[1:]
    return f"{_KIND_LABELS[concern.kind]} '{label or concern.name}'"


def issue_title(concern: Concern, found: Sequence[Finding], label: str | None = None) -> str:
    """``Sensitive attribute 'colour': gaps between groups, changing it changes
    predictions, attribution falls on colour``; all passing: ``...: no problem found``."""
    problems = [f for f in found if f.severity != "pass"]
    if concern.kind == "check":
        family, _, check = concern.name.partition(".")
        if not problems:
            return concern_label(concern) + ": no problem found"
        if check.startswith("robust_accuracy"):
            words = "accuracy falls under small adversarial perturbations"
        else:
            words = _CHECK_PHRASES.get(concern.name, check.replace("_", " "))
        return f"{family.capitalize()}: {words}"
    name = concern_label(concern, label)
    if concern.kind == "data":
        return name
    if not problems:
        return f"{name}: no problem found"
    words = list(dict.fromkeys(phrase(f) for f in problems))
    more = len(words) - 3
    return f"{name}: " + ", ".join(words[:3]) + (f" and {more} more" if more > 0 else "")


_NEXT_STEPS = {
    "attribute": (
        "Decide whether '{name}' may inform this decision at all. If not, remove it and "
        "the features that stand in for it, or retrain on data where it does not predict "
        "the label; then audit again. The findings below say for which groups."
    ),
    "feature": (
        "Check whether '{name}' should matter this much; if it should not, drop or "
        "regularise it and audit again."
    ),
    "region": (
        "Check whether the region '{name}' should matter; if not, mask or randomise it in "
        "training and audit again."
    ),
    "class": (
        "Look at the samples of class '{name}': collect or weight more of them, or "
        "retrain, and audit again."
    ),
    "method": (
        "Do not read this method's maps as explanations for this model: use a method that "
        "passes, or give it more samples or steps."
    ),
    "data": (
        "Collect more samples of the small groups, or merge them with a neighbour, to get "
        "a verdict for them."
    ),
}

_CHECK_STEPS = {
    "robustness": (
        "Train with adversarial or augmented examples (the perturbation named), or bound "
        "the inputs the model accepts; then audit again."
    ),
    "overview": (
        "Read the per-class table and the reliability curve; retrain, or recalibrate "
        "(temperature scaling), and audit again."
    ),
    "generative": (
        "Look at the samples shown; train the generator longer or on more data, and audit again."
    ),
    "explain": "Read the explanation's evidence before relying on its maps.",
    "fairness": "Read the group table: which groups, and how large.",
}


def next_step(concern: Concern, severity: str) -> str:
    """What to do next, in one or two sentences (nothing for a passing issue)."""
    if severity == "pass":
        return "Nothing to do: every check on it passes."
    if concern.kind == "check":
        family = concern.name.partition(".")[0]
        return _CHECK_STEPS.get(family, "Read the evidence of the findings below.")
    return _NEXT_STEPS[concern.kind].format(name=concern.name)
