"""Plugins of installed packages: modules named under the ``deepaudit.plugins`` entry
point group, imported once, when deepaudit first lists its families, methods, metrics
or attacks. A package ships one as::

    [project.entry-points."deepaudit.plugins"]
    my_plugin = "my_package.deepaudit_plugin"

and that module calls ``deepaudit.register_family`` / ``register_attribution`` /
``register_metric`` / ``register_attack`` at import, so the CLI and the dashboard (which
import nothing of the user's) know them too.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

GROUP = "deepaudit.plugins"

_loaded = False


class PluginWarning(UserWarning):
    """An installed plugin failed to import (deepaudit goes on without it)."""


def load_plugins() -> None:
    """Import every module named in the ``deepaudit.plugins`` entry point group, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for entry in entry_points(group=GROUP):
        try:
            entry.load()
        except Exception as exc:  # a broken plugin must not break every audit and report
            warnings.warn(
                f"The deepaudit plugin {entry.name!r} ({entry.value}) failed to import: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
