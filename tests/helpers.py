"""Helpers the test modules share."""

from deepaudit.testing import expected_message as expected_parameter_message

__all__ = ["expected_parameter_message"]
