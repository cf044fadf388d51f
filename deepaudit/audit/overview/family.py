"""The ``overview`` family: how good the model is, before asking why or for whom."""

from __future__ import annotations

from deepaudit.audit.overview.config import OverviewConfig
from deepaudit.audit.overview.grade import grade_overview
from deepaudit.audit.overview.result import OverviewResult
from deepaudit.families import Family, Page


class Overview(Family):
    name = "overview"
    title = "Overview: how good is the model?"
    description = (
        "Quality and calibration (classifiers), reconstruction error (autoencoders), "
        "sample statistics (generators)."
    )
    config_class = OverviewConfig
    result_class = OverviewResult
    streams = True
    view_path = "deepaudit.reports.views.overview:overview_view"
    page = Page("Model", ":material/insights:", "model.py")

    def run(self, target, config, seed):
        from deepaudit.audit.overview.run import run_overview

        return run_overview(target, config, seed)

    def grade(self, result, config):
        return grade_overview(result, config)

    def concerns(self, finding, attributes):
        from deepaudit.issues import Concern, check_concern

        if finding.check == "class_recall" and finding.evidence.group:
            return (Concern("class", finding.evidence.group),)
        return (check_concern(finding),)


FAMILY = Overview()
