"""Identity terms and templates for counterfactual text tests (the fairness family's
data, :mod:`deepaudit.audit.fairness.terms`; the text reference model reads it to report
which terms its vocabulary knows)."""

from deepaudit.audit.fairness.terms import (
    FILENAME,
    identity_attributes,
    load_identity_terms,
    template_sentences,
)

__all__ = ["FILENAME", "identity_attributes", "load_identity_terms", "template_sentences"]
