"""Identity terms and templates for counterfactual tests of text models: data the
fairness family owns.

``data/identity_terms.json`` lists terms per attribute (gender, religion, nationality,
ethnicity) and group, swap pairs, and sentence templates with a ``{term}`` slot and an
``{adjective}`` slot. :func:`template_sentences` fills them in.
"""

from __future__ import annotations

import functools
import itertools
import json
from importlib import resources
from typing import Any

FILENAME = "identity_terms.json"


@functools.cache
def _load() -> str:
    return (resources.files("deepaudit.audit.fairness") / "data" / FILENAME).read_text(
        encoding="utf-8"
    )


def load_identity_terms() -> dict[str, Any]:
    """The whole identity-terms file as plain data (a fresh copy each call)."""
    return json.loads(_load())


def identity_attributes() -> dict[str, dict[str, list[str]]]:
    """Attribute -> group -> terms, e.g. ``{"religion": {"muslim": ["muslim", ...]}}``."""
    return load_identity_terms()["attributes"]


def template_sentences(attribute: str, sentiment: str = "neutral") -> list[dict[str, str]]:
    """Every template filled with every term of ``attribute`` and adjective of
    ``sentiment``: one dict per sentence with its text, template id, group and term."""
    data = load_identity_terms()
    rows = []
    groups = data["attributes"][attribute]
    adjectives = data["adjectives"][sentiment]
    for t_id, template in enumerate(data["templates"]):
        for adjective, (group, terms) in itertools.product(adjectives, groups.items()):
            for term in terms:
                rows.append(
                    {
                        "text": template["text"].format(term=term, adjective=adjective),
                        "template": str(t_id),
                        "adjective": adjective,
                        "group": group,
                        "term": term,
                    }
                )
    return rows
