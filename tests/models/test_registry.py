from __future__ import annotations

import dataclasses

import pytest

from deepaudit.errors import UnknownModelError, ValidationError
from deepaudit.models import (
    Floor,
    ModelSpec,
    get_model_spec,
    list_models,
    load_model,
    register_model,
    registry,
    zoo_table,
)

FIVE = {"cnn", "lstm", "transformer", "gan", "autoencoder"}


def test_the_five_and_the_digit_classifier_are_registered():
    assert set(list_models()) == FIVE | {"digit_classifier", "text_transformer"}
    assert list_models() == sorted(list_models())


def test_list_models_filters_by_pattern():
    assert list_models("*c*") == ["autoencoder", "cnn", "digit_classifier"]
    assert list_models("nothing*") == []


@pytest.mark.parametrize("name", list_models())
def test_spec_is_frozen_and_complete(name):
    spec = get_model_spec(name)
    assert spec.name == name
    assert spec.kind in ("classifier", "autoencoder", "generator")
    assert spec.modality in ("image", "text", "tabular")
    assert spec.dataset and spec.licence and spec.description and spec.architecture
    assert spec.floors, "every reference model declares a quality floor"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_unknown_name_lists_close_names():
    known = ", ".join(repr(n) for n in list_models())
    with pytest.raises(UnknownModelError) as info:
        load_model("cnnn")
    assert str(info.value) == f"Unknown model 'cnnn'. Did you mean 'cnn'? Known: {known}."
    with pytest.raises(KeyError):
        get_model_spec("transfomer")
    with pytest.raises(UnknownModelError, match="Did you mean 'transformer'"):
        get_model_spec("transfomer")


def test_unknown_name_without_close_names():
    known = ", ".join(repr(n) for n in list_models())
    with pytest.raises(UnknownModelError) as info:
        get_model_spec("zzzzzz")
    assert str(info.value) == f"Unknown model 'zzzzzz'. Known: {known}."


def test_registering_a_taken_name_is_refused():
    spec = ModelSpec(
        name="cnn",
        kind="classifier",
        modality="image",
        dataset="d",
        licence="l",
        description="d",
        architecture="a",
    )
    with pytest.raises(ValidationError) as info:
        register_model(spec)(type("Again", (), {}))
    assert str(info.value) == registry.DUPLICATE_MESSAGE.format(name="cnn")


def test_floor_directions():
    assert Floor("accuracy", 0.9).is_met(0.95)
    assert not Floor("accuracy", 0.9).is_met(0.85)
    assert Floor("ratio", 1.1, direction="max").is_met(1.0)
    assert str(Floor("ratio", 1.1, direction="max")) == "ratio ≤ 1.1"
    with pytest.raises(ValidationError) as info:
        Floor("x", 1.0, direction="up")
    assert str(info.value) == registry.FLOOR_DIRECTION_MESSAGE.format(got="up")


def test_zoo_table_has_a_row_per_model_with_metrics():
    rows = zoo_table()
    assert [r["name"] for r in rows] == list_models()
    for row in rows:
        assert row["trained"], row["name"]
        spec = get_model_spec(row["name"])
        assert (row["kind"], row["modality"], row["dataset"]) == (
            spec.kind,
            spec.modality,
            spec.dataset,
        )
        for floor in spec.floors:
            assert floor.metric in row["metrics"]
        assert row["seconds_per_epoch"] > 0
        assert row["size_bytes"] < 5_000_000


def test_training_order_puts_dependencies_first():
    from deepaudit.models.registry import training_order

    order = training_order(["gan", "cnn", "digit_classifier"])
    assert order.index("digit_classifier") < order.index("gan")
    assert sorted(order) == ["cnn", "digit_classifier", "gan"]
    assert training_order(["gan"]) == ["digit_classifier", "gan"]
