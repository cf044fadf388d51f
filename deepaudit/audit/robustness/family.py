"""The ``robustness`` family: how easily does the model break, and for whom?"""

from __future__ import annotations

from deepaudit.audit.robustness.config import RobustnessConfig
from deepaudit.audit.robustness.result import RobustnessResult
from deepaudit.families import Family, Page


class Robustness(Family):
    name = "robustness"
    title = "Robustness: how easily does the model break?"
    description = (
        "Adversarial robustness (PGD, FGSM, minimal ε, Square; word substitution), natural "
        "perturbations, robustness per group, and gradient-masking checks."
    )
    config_class = RobustnessConfig
    result_class = RobustnessResult
    streams = True
    view_path = "deepaudit.reports.views.robustness:robustness_view"
    page = Page("Robustness", ":material/shield:", "robustness.py")

    def applies_to(self, target):
        from deepaudit.audit.robustness.run import applies_to

        return applies_to(target)

    def validate(self, target, config):
        from deepaudit.audit.robustness.run import check_options

        check_options(target, config)

    def run(self, target, config, seed):
        from deepaudit.audit.robustness.run import run_robustness

        return run_robustness(target, config, seed)

    def grade(self, result, config):
        from deepaudit.audit.robustness.grade import grade_robustness

        return grade_robustness(result, config)

    def regrade(self, result, config):
        from deepaudit.audit.robustness.grade import refresh_verdicts

        return refresh_verdicts(result, config)

    def concerns(self, finding, attributes):
        from deepaudit.issues import Concern, check_concern, grouping_attributes

        if finding.check == "robustness_gap":
            named = grouping_attributes(finding.evidence.group)
            return tuple(Concern("attribute", a) for a in named) or (check_concern(finding),)
        return (check_concern(finding),)


FAMILY = Robustness()
