"""Exception types raised by deepaudit, and the message templates they use.

Every error a user can trigger by passing bad input is a :class:`DeepAuditError`, so
``except deepaudit.errors.DeepAuditError`` catches all of them. Messages are module
constants so that tests compare the exact text and callers can match on it.
"""

from __future__ import annotations

# -- message templates -------------------------------------------------------------

PARAMETER_MESSAGE = "The {name!r} parameter of {owner} must be {expected}. Got {got} instead."
LENGTH_MISMATCH_MESSAGE = (
    "The {name!r} parameter of {owner} must have one row per sample ({expected} rows). "
    "Got {got} rows instead."
)
UNKNOWN_NAME_MESSAGE = "Unknown {what} {name!r}. {hint}"
BUNDLE_NEWER_SCHEMA_MESSAGE = (
    "The audit bundle at {path} has schema version {found}, but this deepaudit "
    "({version}) reads schema versions up to {supported}. Upgrade deepaudit to load it."
)
BUNDLE_MISSING_MESSAGE = (
    "No audit bundle at {path}: expected a folder holding bundle.json and arrays.npz."
)
BUNDLE_CORRUPT_MESSAGE = "The audit bundle at {path} cannot be read: {reason}."
MODEL_CALL_MESSAGE = (
    "The {module} raised {error} on a batch of shape {shape} ({dtype}, on {device}). "
    "Call it on such a batch yourself to reproduce it."
)
AUDIT_STOPPED_MESSAGE = "The {family!r} audit family stopped: {reason} {kept}"
FAMILY_NOT_APPLICABLE_MESSAGE = (
    "The {family!r} audit family does not apply to {a_kind} target with {modality} data: {reason}"
)


class DeepAuditError(Exception):
    """Base class of every error deepaudit raises on purpose."""


class ValidationError(DeepAuditError, ValueError):
    """An argument has a wrong type or value; raised before any work starts."""


class UnknownNameError(DeepAuditError, KeyError):
    """A name (model, audit family, method) is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownModelError(UnknownNameError):
    """A reference model name is not in the zoo."""


class CheckpointError(DeepAuditError):
    """A checkpoint is missing, corrupted, or not in a safe format."""


class BundleError(DeepAuditError):
    """A saved audit bundle is missing, corrupted, or from a newer schema."""


class NotApplicableError(DeepAuditError):
    """An audit family or method cannot run on this kind of target."""


class ModelCallError(DeepAuditError):
    """The user's model (or discriminator, or label model) raised on a batch; the
    original exception is its ``__cause__``."""


class AuditStoppedError(DeepAuditError):
    """An audit family raised part-way through a run. ``bundle`` holds the families that
    finished, marked incomplete (None when none did); ``saved_to`` is where it was saved."""

    def __init__(self, message: str, family: str, bundle=None, saved_to=None) -> None:
        super().__init__(message)
        self.family = family
        self.bundle = bundle
        self.saved_to = saved_to


def model_call_error(module: str, x: object, exc: BaseException) -> ModelCallError:
    """The error for ``exc`` raised by the user's ``module`` on the batch ``x``."""
    error = f"{type(exc).__name__}: {exc}".strip()
    if len(error) > 300:
        error = error[:297] + "..."
    return ModelCallError(
        MODEL_CALL_MESSAGE.format(
            module=module,
            error=error,
            shape=tuple(getattr(x, "shape", ())),
            dtype=str(getattr(x, "dtype", type(x).__name__)).replace("torch.", ""),
            device=getattr(x, "device", "cpu"),
        )
    )


def parameter_error(name: str, owner: str, expected: str, got: object) -> ValidationError:
    """Build the one message every invalid parameter gets."""
    return ValidationError(
        PARAMETER_MESSAGE.format(name=name, owner=owner, expected=expected, got=describe(got))
    )


class Described(str):
    """A description of a bad value, written for the message ("samples of shape (3,)"):
    shown as it is, where a value would be shown by its repr."""


def described(text: str) -> Described:
    """Mark ``text`` as a description of what came, not the value itself."""
    return Described(text)


def plural(count: int, noun: str) -> str:
    """``1 missing value``, ``2 missing values``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def describe(value: object) -> str:
    """Short description of a bad value for an error message: its repr, or its type."""
    if isinstance(value, Described):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, list | tuple | set | frozenset) and len(value) <= 8:
        text = repr(value)
        if len(text) <= 80:
            return text
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    return f"an object of type {type(value).__name__}"


def close_names_hint(name: str, known: list[str]) -> str:
    """'Did you mean ...?' followed by the known names, for unknown-name errors."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    known_text = ", ".join(repr(k) for k in sorted(known))
    if close:
        return f"Did you mean {' or '.join(repr(c) for c in close)}? Known: {known_text}."
    return f"Known: {known_text}."


def article(noun: str) -> str:
    """'a' or 'an' before ``noun`` (by its first letter: 'an autoencoder', 'a image' no
    more)."""
    return "an" if noun[:1].lower() in "aeiou" else "a"
