"""Keep httpx's command-line tool, which trialwatch never runs, from loading with httpx.

httpx imports its CLI (httpx._main) whenever rich, pygments and click are installed, which
they are (typer wants rich): about 40 ms of every `check`'s CPU for nothing. httpx falls back
to a stub when that import fails, as it does without its `cli` extra.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["install"]

_CLI = "httpx._main"


class _RefuseHttpxCli:
    """A meta path finder that refuses httpx._main once, then steps out of every import."""

    @classmethod
    def find_spec(
        cls,
        name: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if name != _CLI:
            return None
        sys.meta_path.remove(cls)
        raise ModuleNotFoundError(f"{_CLI} is not used by trialwatch", name=name)


def install() -> None:
    """Refuse httpx._main when httpx is imported later (nothing to do if it already was)."""
    if "httpx" not in sys.modules and _RefuseHttpxCli not in sys.meta_path:
        sys.meta_path.insert(0, _RefuseHttpxCli)
