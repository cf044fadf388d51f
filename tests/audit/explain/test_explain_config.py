"""ExplainConfig's validation: every parameter rejects a bad value by name, before any work."""

from __future__ import annotations

import pytest

import deepaudit as da
from deepaudit.audit.explain import ExplainConfig, default_methods
from deepaudit.audit.explain.case import prepare_case
from deepaudit.errors import ValidationError
from tests.audit.explain.explain_toys import explain


def test_exact_messages():
    with pytest.raises(ValidationError) as info:
        ExplainConfig(n_samples=1)
    assert str(info.value) == (
        "The 'n_samples' parameter of ExplainConfig must be an int in the range [2, 10000]. "
        "Got 1 instead."
    )
    with pytest.raises(ValidationError) as info:
        ExplainConfig(methods=["ig"])
    assert str(info.value).startswith(
        "The 'methods' parameter of ExplainConfig must be None, one of 'all' or a non-empty "
        "list of distinct values from 'integrated_gradients', 'saliency', "
    )
    assert str(info.value).endswith("Got ['ig'] instead.")


def test_audit_config_takes_explain_options_as_a_dict_or_the_dataclass():
    config = da.AuditConfig(families=["explain"], options={"explain": {"n_samples": 4}})
    assert config.options_for("explain") == ExplainConfig(n_samples=4)
    assert da.AuditConfig(families=["explain"]).options_for("explain") == ExplainConfig()


def test_thorough_runs_every_method_with_larger_budgets():
    thorough = ExplainConfig.thorough()
    assert thorough.methods == "all"
    assert thorough.n_samples > ExplainConfig().n_samples
    assert thorough.kernel_shap_samples > ExplainConfig().kernel_shap_samples
    assert ExplainConfig.thorough(n_samples=12).n_samples == 12


def test_a_method_that_cannot_apply_fails_before_any_model_call(image_target):
    with pytest.raises(ValidationError) as info:
        explain(image_target, methods=["integrated_gradients", "kernel_shap"])
    assert str(info.value) == (
        "The 'methods' parameter of ExplainConfig must be methods that apply to this classifier "
        "target with image data ('integrated_gradients', 'saliency', 'smoothgrad', 'deeplift', "
        "'gradient_shap', 'occlusion', 'grad_cam', 'lime', 'shap_gradient', 'shap_deep'). "
        "Got kernel_shap (KernelSHAP explains tabular data, not image) instead."
    )
    assert image_target.n_evaluations == 0


def test_deeplift_does_not_apply_to_recurrent_models(text_target, tabular_target):
    with pytest.raises(ValidationError, match=r"deeplift \(DeepLift explains image or tabular"):
        explain(text_target, methods=["deeplift"])
    assert default_methods(prepare_case(tabular_target, None, 0)) == [
        "integrated_gradients",
        "gradient_shap",
        "feature_ablation",
        "kernel_shap",
    ]


def test_an_unknown_layer_or_sensitive_feature_is_named(image_target, tabular_target):
    with pytest.raises(ValidationError) as info:
        explain(image_target, layer="conv9")
    assert str(info.value) == (
        "The 'layer' parameter of ExplainConfig must be the name of a module of the model "
        "(conv, head). Got 'conv9' instead."
    )
    with pytest.raises(ValidationError) as info:
        explain(tabular_target, sensitive_features=["sex"])
    assert str(info.value) == (
        "The 'sensitive_features' parameter of ExplainConfig must be names of logical features "
        "of the target (income, hours, age, edu). Got ['sex'] instead."
    )
    assert image_target.n_evaluations == 0 and tabular_target.n_evaluations == 0
