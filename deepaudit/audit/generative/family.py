"""The ``generative`` family: what a generator makes and misses, what an autoencoder
fails to rebuild."""

from __future__ import annotations

from deepaudit.audit.generative.config import GenerativeConfig
from deepaudit.audit.generative.result import GenerativeResult
from deepaudit.families import Family, Page


def applies_to(target) -> str | None:
    """``None`` when the generative family can audit ``target``, else why not."""
    if target.kind == "classifier":
        return "it audits generators and autoencoders."
    if target.modality == "text":
        return "distances and reconstruction errors between token ids are not meaningful."
    if target.kind == "generator" and target.reference_data is None:
        return "a generator needs reference_data (real samples to compare its samples with)."
    return None


class Generative(Family):
    name = "generative"
    title = "Generative: what the model makes, misses and copies"
    description = (
        "Generators: fidelity, coverage, diversity and memorisation of samples; "
        "autoencoders: reconstruction-error distributions and their per-feature sources."
    )
    config_class = GenerativeConfig
    result_class = GenerativeResult
    view_path = "deepaudit.reports.views.generative:generative_view"
    page = Page("Generative", ":material/grid_view:", "generative.py")

    def applies_to(self, target):
        return applies_to(target)

    def validate(self, target, config):
        from deepaudit.audit.generative.features import NO_LABEL_MODEL_MESSAGE, label_model
        from deepaudit.errors import ValidationError

        if config.feature_space == "label_model" and label_model(target) is None:
            raise ValidationError(NO_LABEL_MODEL_MESSAGE)
        if target.kind == "generator" and target.reference_data is not None:
            from deepaudit.audit.generative.generator import check_target

            check_target(target, config, 0)  # shapes before any family runs (one sample)

    def run(self, target, config, seed):
        from deepaudit.audit.generative.run import run_generative

        return run_generative(target, config, seed)

    def grade(self, result, config):
        from deepaudit.audit.generative.grade import grade_generative

        return grade_generative(result, config)

    def concerns(self, finding, attributes):
        from deepaudit.issues import Concern, check_concern

        group = finding.evidence.group
        if finding.check == "coverage" and group:
            return (Concern("class", group),)
        if finding.check in ("anomaly_drivers", "feature_generalisation") and group:
            return (Concern("feature", group),)
        return (check_concern(finding),)


FAMILY = Generative()
