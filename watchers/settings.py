"""What every source's settings share: strict keys, durations, http(s) URLs, enabled, interval."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = [
    "Duration",
    "HttpUrl",
    "Pause",
    "SourceSettings",
    "StrictSettings",
    "parse_duration",
    "parse_pause",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> float:
    """Seconds from an int/float or a string like "90", "15m", "1h", "2d"."""
    seconds = parse_pause(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def parse_pause(value: object) -> float:
    """Like `parse_duration`, but 0 is allowed: a pause that can be switched off."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 900, '15m' or '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "s").lower()]
    else:
        raise ValueError("expected a duration such as 900, '15m' or '1h'")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Pause = Annotated[float, BeforeValidator(parse_pause)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, BeforeValidator(lambda v: _http_url(str(v)) if isinstance(v, str) else v)]


class StrictSettings(BaseModel):
    """A configuration section: unknown keys are refused, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(StrictSettings):
    """The keys every `[sources.<section>]` has."""

    enabled: bool = True
    interval: Duration | None = None
