"""Audit families: one registered object each, and the registry ``run_audit`` reads.

A family is an instance of a :class:`Family` subclass. It owns

- ``config_class``: its frozen, validated settings (a :class:`~deepaudit.configs.Config`);
- ``applies_to(target)`` / ``validate(target, config)`` / ``run(target, config, seed)``:
  whether it can audit a target, a check of the settings against it before any family
  runs, and the measuring, which returns a result and no verdicts;
- ``result_class``: its typed result, with its own schema version and migrations;
- ``grade(result, config)``: a pure function from the saved result and the limits to the
  findings (so a saved bundle is re-graded without the model: ``deepaudit regrade``);
- ``view(bundle, result)``: its section of the report and the dashboard.

The built-in families are listed here by name and import path, so the list is known
without importing any of them (nor torch): :func:`get_family` imports one when asked.
A family of your own is one subclass and one :func:`register_family` call.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from deepaudit.configs import Config
from deepaudit.errors import (
    UNKNOWN_NAME_MESSAGE,
    UnknownNameError,
    close_names_hint,
    parameter_error,
)
from deepaudit.plugins import load_plugins
from deepaudit.results import FamilyResult, Finding

if TYPE_CHECKING:
    from deepaudit.audit.target import Target
    from deepaudit.issues import Concern
    from deepaudit.reports.views import Section
    from deepaudit.results import AuditBundle


@dataclass(frozen=True)
class Page:
    """A family's page in the dashboard: a script in ``deepaudit/dashboard/screens`` (or
    ``None`` for the generic page, which draws the family's view), its title and icon."""

    title: str
    icon: str = ":material/analytics:"
    script: str | None = None


class Family:
    """One audit family (see the module docstring). Subclass it, set the class
    attributes, override :meth:`run` and :meth:`grade`, and register an instance."""

    #: Key in configs, bundles and reports.
    name: ClassVar[str]
    #: Heading of its report section, e.g. "Fairness: for whom does the model fail?".
    title: ClassVar[str]
    #: One sentence for ``deepaudit --help`` and the README.
    description: ClassVar[str] = ""
    config_class: ClassVar[type[Config]]
    result_class: ClassVar[type[FamilyResult]] = FamilyResult
    #: Whether ``run`` reads every row of a streaming target batch by batch; a family
    #: that does not is given the target's in-memory sample of rows.
    streams: ClassVar[bool] = False
    #: ``"module:function"`` of its view; ``None``: the generic one (metrics and tables).
    view_path: ClassVar[str | None] = None
    page: ClassVar[Page | None] = None

    def applies_to(self, target: Target) -> str | None:
        """``None`` when the family can audit ``target``, else a sentence saying why not."""
        return None

    def validate(self, target: Target, config: Any) -> None:
        """Raise a ValidationError when ``config`` does not fit ``target`` (an unknown
        attribute, say). ``run_audit`` calls it for every family before any runs."""

    def run(self, target: Target, config: Any, seed: int) -> FamilyResult:
        """Measure: the result's metrics, tables and arrays, but no findings."""
        raise NotImplementedError(f"the {self.name!r} family does not implement run")

    def grade(self, result: FamilyResult, config: Any) -> list[Finding]:
        """The findings of ``result`` under the limits in ``config``: a pure function of
        the two (no model, no data, no randomness)."""
        return []

    def regrade(self, result: FamilyResult, config: Any) -> FamilyResult:
        """``result`` graded under ``config``: new findings, and any verdict its tables keep
        read again (override when the tables hold verdicts, as fairness's tests do)."""
        return dataclasses.replace(result, findings=list(self.grade(result, config)))

    def concerns(self, finding: Finding, attributes: Sequence[str]) -> tuple[Concern, ...]:
        """What ``finding`` is about (a sensitive attribute, a feature, a region, a class,
        an explanation method, or the check alone), so that findings about the same thing
        form one issue across families. ``attributes`` are the audited sensitive
        attributes. The default reads the attributes the evidence's group names."""
        from deepaudit.issues import default_concerns

        return default_concerns(finding, attributes)

    def view(self, bundle: AuditBundle, result: FamilyResult) -> Section:
        """This family's section of the report and the dashboard."""
        from deepaudit.reports.views import generic_section

        if self.view_path is None:
            return generic_section(bundle, result)
        return _resolve(self.view_path)(bundle, result)

    def __repr__(self) -> str:
        return f"<audit family {self.name!r}>"


#: Built-in families in the order an audit runs them: name -> "module:attribute".
BUILTIN_FAMILIES: dict[str, str] = {
    "overview": "deepaudit.audit.overview.family:FAMILY",
    "explain": "deepaudit.audit.explain.family:FAMILY",
    "fairness": "deepaudit.audit.fairness.family:FAMILY",
    "robustness": "deepaudit.audit.robustness.family:FAMILY",
    "generative": "deepaudit.audit.generative.family:FAMILY",
}

_REGISTERED: dict[str, Family] = {}
_LOADED: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add an audit family (an instance of a :class:`Family` subclass); returns it."""
    if not isinstance(family, Family):
        raise parameter_error(
            "family", "register_family", "an instance of a Family subclass", family
        )
    for attribute, kind in (("name", str), ("title", str), ("config_class", type)):
        if not isinstance(getattr(family, attribute, None), kind):
            raise parameter_error(
                attribute,
                type(family).__name__,
                f"a {kind.__name__} (a class attribute of every Family)",
                getattr(family, attribute, None),
            )
    if not issubclass(family.config_class, Config):
        raise parameter_error(
            "config_class",
            type(family).__name__,
            "a subclass of deepaudit.configs.Config (frozen and validated)",
            family.config_class,
        )
    if not issubclass(family.result_class, FamilyResult):
        raise parameter_error(
            "result_class", type(family).__name__, "a subclass of FamilyResult", family.result_class
        )
    if family.name in BUILTIN_FAMILIES:
        raise parameter_error(
            "name", type(family).__name__, "a name no built-in family has", family.name
        )
    _REGISTERED[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family added with :func:`register_family` (tests, notebooks)."""
    _REGISTERED.pop(name, None)


def list_families() -> list[str]:
    """Names of the audit families, built-in ones first, in the order audits run them.

    Imports no built-in family (and so not torch); installed plugins are loaded."""
    load_plugins()
    return [*BUILTIN_FAMILIES, *(n for n in _REGISTERED if n not in BUILTIN_FAMILIES)]


def get_family(name: str) -> Family:
    """The family registered as ``name`` (a built-in one is imported on first use)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in BUILTIN_FAMILIES:
        load_plugins()
        if name in _REGISTERED:
            return _REGISTERED[name]
    if name in BUILTIN_FAMILIES:
        if name not in _LOADED:
            _LOADED[name] = _resolve(BUILTIN_FAMILIES[name])
        return _LOADED[name]
    raise UnknownNameError(
        UNKNOWN_NAME_MESSAGE.format(
            what="audit family", name=name, hint=close_names_hint(name, list_families())
        )
    )


def find_family(name: str) -> Family | None:
    """Like :func:`get_family`, but ``None`` for a name nobody registered (a bundle
    written with a plugin that is not installed here)."""
    return get_family(name) if name in list_families() else None


def _resolve(path: str) -> Callable | Any:
    module, attribute = path.split(":", 1)
    return getattr(importlib.import_module(module), attribute)
