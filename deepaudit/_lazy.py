"""Lazy package attributes (PEP 562), as scikit-learn resolves its submodules.

A package lists what it exports and from which module; nothing is imported until an
attribute is read, so ``import deepaudit`` or reading a bundle does not load torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``: each name in
    ``exports`` is read from its module (relative to the package) on first access."""
    names = sorted(exports)

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        # Kept on the package: importing a submodule of the same name as the attribute
        # (``memorisation`` in ``.memorisation``) would otherwise shadow it.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
