"""The ``robustness`` audit family: how easily the model breaks, and for whom.

Importing this package registers the family with ``run_audit``::

    da.run_audit(target, da.AuditConfig(families=["robustness"],
                                        options={"robustness": RobustnessConfig()}))

The attacks are usable on their own: :func:`pgd`, :func:`fgsm` (captum.robust),
:func:`square_attack` and :func:`substitution_attack`, on an :class:`AttackSpace`.
"""

from deepaudit.audit.robustness.attacks import AttackResult, fgsm, input_gradients, pgd
from deepaudit.audit.robustness.config import DEFAULT_EPSILONS, RobustnessConfig
from deepaudit.audit.robustness.family import applies_to, run_robustness
from deepaudit.audit.robustness.objectives import (
    margin,
    misclassification,
    output_change,
    score_shift,
)
from deepaudit.audit.robustness.query import square_attack
from deepaudit.audit.robustness.space import (
    AttackSpace,
    image_space,
    latent_space,
    mutable_columns,
    tabular_space,
    text_space,
)
from deepaudit.audit.robustness.words import substitution_attack

__all__ = [
    "DEFAULT_EPSILONS",
    "AttackResult",
    "AttackSpace",
    "RobustnessConfig",
    "applies_to",
    "fgsm",
    "image_space",
    "input_gradients",
    "latent_space",
    "margin",
    "misclassification",
    "mutable_columns",
    "output_change",
    "pgd",
    "run_robustness",
    "score_shift",
    "square_attack",
    "substitution_attack",
    "tabular_space",
    "text_space",
]
