"""The ``explain`` family: why does the model decide, and how far can the explanation
be trusted?"""

from __future__ import annotations

from deepaudit.audit.explain.config import ExplainConfig
from deepaudit.audit.explain.result import ExplainResult
from deepaudit.families import Family, Page


class Explain(Family):
    name = "explain"
    title = "Explanations: why does the model decide?"
    description = (
        "Attributions (captum, shap, lime) for every model kind, each with its "
        "faithfulness, sanity, stability and cost."
    )
    config_class = ExplainConfig
    result_class = ExplainResult
    streams = True
    view_path = "deepaudit.reports.views.explain:explain_view"
    page = Page("Explanations", ":material/lightbulb:", "explanations.py")

    def validate(self, target, config):
        from deepaudit.audit.explain.run import check_target_settings

        check_target_settings(target, config)

    def run(self, target, config, seed):
        from deepaudit.audit.explain.run import run_explain

        return run_explain(target, config, seed)

    def grade(self, result, config):
        from deepaudit.audit.explain.grade import grade_explain

        return grade_explain(result, config)

    def regrade(self, result, config):
        from deepaudit.audit.explain.grade import refresh_verdicts

        return refresh_verdicts(result, config)

    def concerns(self, finding, attributes):
        from deepaudit.issues import Concern, check_concern

        check, group = finding.check, finding.evidence.group
        if check.startswith(("proxy:", "sensitive_share:")):
            return (Concern("attribute", check.split(":", 1)[1]),)
        if check.startswith("region:"):
            return (Concern("region", check.split(":", 1)[1]),)
        if check == "colour_share":
            kind = "attribute" if "colour" in attributes else "feature"
            return (Concern(kind, "colour"),)
        if check in ("randomisation", "stability", "faithfulness", "completeness") and group:
            return (Concern("method", group),)
        return (check_concern(finding),)


FAMILY = Explain()
