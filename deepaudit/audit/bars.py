"""Progress bars inside the audit's own bar (a family's stages, a bootstrap, batches).

A nested bar is shown only when asked for and only on a terminal: in a log file tqdm's
cursor-up codes (``ESC[A``) would be left between the lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm


def nested_bar(iterable: Iterable | None = None, *, show: bool = True, **kwargs: Any) -> tqdm:
    """A ``leave=False`` tqdm bar: off when ``show`` is False, and where stderr is not a
    terminal (``disable=None``)."""
    return tqdm(iterable, disable=None if show else True, leave=False, **kwargs)
