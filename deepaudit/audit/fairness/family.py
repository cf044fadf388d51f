"""The ``fairness`` family: for whom does the model fail?"""

from __future__ import annotations

from deepaudit.audit.fairness.config import FairnessConfig
from deepaudit.audit.fairness.result import FairnessResult
from deepaudit.families import Family, Page


class Fairness(Family):
    name = "fairness"
    title = "Fairness: for whom does the model fail?"
    description = (
        "Group and intersectional metrics with intervals, counterfactual flips and "
        "identity swaps, mitigation (classifiers); flag rates by group (autoencoders); "
        "class coverage (generators)."
    )
    config_class = FairnessConfig
    result_class = FairnessResult
    streams = True
    view_path = "deepaudit.reports.views.fairness:fairness_view"
    page = Page("Fairness", ":material/balance:", "fairness.py")

    def applies_to(self, target):
        from deepaudit.audit.fairness.run import applies_to

        return applies_to(target)

    def validate(self, target, config):
        from deepaudit.audit.fairness.run import validate

        validate(target, config)

    def run(self, target, config, seed):
        from deepaudit.audit.fairness.run import run_fairness

        return run_fairness(target, config, seed)

    def grade(self, result, config):
        from deepaudit.audit.fairness.grade import grade_fairness

        return grade_fairness(result, config)

    def regrade(self, result, config):
        from deepaudit.audit.fairness.grade import refresh_verdicts

        return refresh_verdicts(result, config)

    def concerns(self, finding, attributes):
        from deepaudit.issues import Concern, check_concern, grouping_attributes

        check = finding.check
        if check == "small_groups":
            return (Concern("data", "groups too small for a verdict"),)
        if check == "class_coverage" and finding.evidence.group:
            return (Concern("class", finding.evidence.group),)
        for prefix in ("identity_swap_", "identity_data_"):
            if check.startswith(prefix):
                return (Concern("attribute", check[len(prefix) :]),)
        if check == "counterfactual" and finding.subject:
            return (Concern("attribute", finding.subject),)
        named = grouping_attributes(finding.evidence.group)
        if check == "mitigation" and finding.subject:
            named = [finding.subject]
        return tuple(Concern("attribute", a) for a in named) or (check_concern(finding),)


FAMILY = Fairness()
