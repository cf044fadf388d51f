"""Checks a plugin author (and deepaudit's own tests) runs on a config class, in the manner
of scikit-learn's ``check_param_validation``: every field is constrained, every
constraint rejects a bad value with the one message format, and the config is frozen.

::

    from deepaudit.testing import check_config
    check_config(MyFamilyConfig)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from deepaudit.configs import Config
from deepaudit.errors import ValidationError, describe


def expected_message(owner: str, name: str, constraints, value) -> str:
    """The validation message for ``value`` of parameter ``name``, spelled out from the
    constraints' descriptions (independently of the code that raises it)."""
    descriptions = [c.description for c in constraints]
    expected = (
        descriptions[0]
        if len(descriptions) == 1
        else ", ".join(descriptions[:-1]) + " or " + descriptions[-1]
    )
    return f"The {name!r} parameter of {owner} must be {expected}. Got {describe(value)} instead."


def invalid_values(constraints) -> list:
    """The constraints' own invalid examples that no constraint of the list accepts."""
    values = []
    for constraint in constraints:
        bad = constraint.invalid_example()
        if bad is None or any(c.is_satisfied_by(bad) for c in constraints):
            continue
        values.append(bad)
    return values


def check_config(config_class: type[Config]) -> None:
    """Raise ``AssertionError`` unless ``config_class`` follows the config contract."""
    assert issubclass(config_class, Config), f"{config_class} is not a deepaudit Config"
    assert dataclasses.is_dataclass(config_class) and config_class.__dataclass_params__.frozen, (
        f"{config_class.__name__} must be a frozen dataclass"
    )
    fields = config_class.field_names()
    constraints = config_class.constraints()
    assert set(constraints) == set(fields), (
        f"{config_class.__name__}: fields without constraints "
        f"{sorted(set(fields) - set(constraints))}, constraints without fields "
        f"{sorted(set(constraints) - set(fields))}"
    )
    unknown_limits = set(config_class.LIMITS) - set(fields)
    assert not unknown_limits, f"{config_class.__name__}.LIMITS names {sorted(unknown_limits)}"
    default = config_class()
    for name in fields:
        bad_values = invalid_values(constraints[name])
        assert bad_values, f"{config_class.__name__}.{name}: no constraint gives a bad value"
        for bad in bad_values:
            try:
                config_class(**{name: bad})
            except ValidationError as exc:
                expected = expected_message(config_class.owner(), name, constraints[name], bad)
                assert str(exc) == expected, f"{str(exc)!r} != {expected!r}"
            else:  # pragma: no cover - the assertion is the report
                raise AssertionError(f"{config_class.__name__}({name}={bad!r}) was accepted")
        try:
            setattr(default, name, getattr(default, name))
        except dataclasses.FrozenInstanceError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"{config_class.__name__}.{name} can be assigned")
        value = getattr(default, name)
        assert not isinstance(value, list | dict | set), (
            f"{config_class.__name__}.{name} holds a mutable {type(value).__name__}"
        )
        if isinstance(value, Mapping):
            try:
                value["x"] = 1  # type: ignore[index]
            except TypeError:
                pass
            else:  # pragma: no cover
                raise AssertionError(f"{config_class.__name__}.{name} can be changed in place")
    plain = default.to_dict()
    assert config_class.from_dict(plain).to_dict() == plain, "to_dict/from_dict round trip"
