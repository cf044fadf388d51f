"""The ``robustness`` audit family: how easily the model breaks, and for whom.

::

    da.run_audit(target, da.AuditConfig(families=["robustness"],
                                        options={"robustness": RobustnessConfig()}))

The attacks are usable on their own: :func:`pgd`, :func:`fgsm` (captum.robust),
:func:`square_attack` and :func:`substitution_attack`, on an :class:`AttackSpace`.
Names load on first use.
"""

from deepaudit._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DEFAULT_EPSILONS": ".config",
        "RobustnessConfig": ".config",
        "RobustnessResult": ".result",
        "FAMILY": ".family",
        "grade_robustness": ".grade",
        "applies_to": ".run",
        "run_robustness": ".run",
        "AttackResult": ".attacks",
        "fgsm": ".attacks",
        "input_gradients": ".attacks",
        "pgd": ".attacks",
        "margin": ".objectives",
        "misclassification": ".objectives",
        "output_change": ".objectives",
        "score_shift": ".objectives",
        "square_attack": ".query",
        "AttackSpace": ".space",
        "image_space": ".space",
        "latent_space": ".space",
        "mutable_columns": ".space",
        "tabular_space": ".space",
        "text_space": ".space",
        "substitution_attack": ".words",
        "register_attack": ".registry",
        "register_perturbation": ".registry",
        "list_attacks": ".registry",
        "list_perturbations": ".registry",
    },
)
