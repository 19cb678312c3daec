"""Defensive reads of decoded JSON/XML: sources omit, null or re-type fields without notice.

Two families. The lenient `as_*` / `nonblank*` read a missing or re-typed value as absent. The
strict `read_*` tell absent (missing or null) from re-typed: a value in another JSON type is
coerced when its meaning is unambiguous (`"95"` for a count, one string for a list of one) and
is otherwise a ParseError, so the poll fails and the snapshot stays; a tracked field never goes
to or from "(none)" because a source changed its types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from watchers.model import ParseError

__all__ = [
    "as_count",
    "as_list",
    "as_map",
    "day_first",
    "kind_name",
    "nonblank",
    "nonblanks",
    "read_count",
    "read_enum",
    "read_flag",
    "read_list",
    "read_map",
    "read_text",
    "utc_day",
]

_COUNT = re.compile(r"[+]?\d+")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_FLAGS = {"true": True, "false": False}


def as_map(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_count(value: Any) -> int | None:
    """A whole number given as a number or as digits (sources send both); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def nonblank(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def utc_day(value: Any) -> datetime | None:
    """`2026-11-03` as midnight UTC; None for anything that is not such a day."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def day_first(value: Any) -> datetime | None:
    """`29/05/2024` (day/month/year, as EMA and EU CTIS write dates) as midnight UTC, or None."""
    match = _DMY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def nonblanks(values: Any) -> list[str]:
    """The non-blank strings of a list, stripped."""
    return [t for t in (nonblank(v) for v in as_list(values)) if t is not None]


def kind_name(value: Any) -> str:
    """A JSON-ish type name for error messages ("null", "dict", "str")."""
    return "null" if value is None else type(value).__name__


def read_map(value: Any, where: str) -> Mapping[str, Any]:
    """An object; empty when absent; ParseError for any other type."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise _retyped(value, where, "an object")


def read_list(value: Any, where: str) -> list[Any]:
    """A list; empty when absent; one scalar or object stands for a list of one."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str | int | float | Mapping) and not isinstance(value, bool):
        return [value]
    raise _retyped(value, where, "a list")


def read_text(value: Any, where: str) -> str | None:
    """Free text, stripped; None when absent or blank; a number reads as its digits."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    raise _retyped(value, where, "text")


def read_enum(value: Any, where: str) -> str | None:
    """A code word (like RECRUITING); None when absent; a number is no code word we know."""
    if value is None or isinstance(value, str):
        return nonblank(value)
    raise _retyped(value, where, "a code word")


def read_count(value: Any, where: str) -> int | None:
    """A whole number; None when absent; `"95"` and `95.0` read as 95."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _retyped(value, where, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _COUNT.fullmatch(value.strip()):
        return int(value.strip())
    raise _retyped(value, where, "a whole number")


def read_flag(value: Any, where: str) -> bool | None:
    """true/false; None when absent; the strings "true" and "false" read as themselves."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise _retyped(value, where, "true or false")


def _retyped(value: Any, where: str, expected: str) -> ParseError:
    shown = repr(value) if isinstance(value, str | int | float | bool) else kind_name(value)
    return ParseError(f"{where} is {kind_name(value)} {shown[:60]}, expected {expected}")
