"""Defensive reads of decoded JSON/XML: sources omit, null or re-type fields without notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["as_list", "as_map", "kind_name", "nonblank", "nonblanks"]


def as_map(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def nonblank(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def nonblanks(values: Any) -> list[str]:
    """The non-blank strings of a list, stripped."""
    return [t for t in (nonblank(v) for v in as_list(values)) if t is not None]


def kind_name(value: Any) -> str:
    """A JSON-ish type name for error messages ("null", "dict", "str")."""
    return "null" if value is None else type(value).__name__
