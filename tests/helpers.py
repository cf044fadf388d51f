"""Helpers the test modules share."""

from deepaudit.errors import describe


def expected_parameter_message(owner: str, name: str, constraints, value) -> str:
    """The exact validation message for ``value`` of parameter ``name`` of ``owner``,
    spelled out here from the constraints' descriptions (independently of the code that
    builds it) so that a test fails when the wording drifts."""
    descriptions = [c.description for c in constraints]
    expected = (
        descriptions[0]
        if len(descriptions) == 1
        else ", ".join(descriptions[:-1]) + " or " + descriptions[-1]
    )
    return f"The {name!r} parameter of {owner} must be {expected}. Got {describe(value)} instead."
