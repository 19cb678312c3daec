"""Alert filters as people and tools type them (`--since 7d`, `?severity=high`), read once.

The CLI, the JSON API, the Atom feed, MCP and the dashboard's form all parse here, so each
accepts the same words and refuses bad input with the same clear sentence (FilterError).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from state.alert_query import AlertFilter
from state.types import Severity

__all__ = ["MAX_LIMIT", "FilterError", "parse_cursor", "parse_filter", "parse_limit", "parse_since"]

MAX_LIMIT = 200  # alerts per API page at most
_SPAN = re.compile(r"\s*(\d{1,5})\s*([hdw])\s*")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class FilterError(ValueError):
    """A filter value that cannot be read; the message says what is accepted."""


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `2w` before `now`, or an ISO date/time (UTC when no offset is given)."""
    span = _SPAN.fullmatch(text)
    if span:
        return now - timedelta(**{_UNITS[span[2]]: int(span[1])})
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(
            f"since: {text!r} is not a period (7d, 24h, 2w) or an ISO date (2026-01-31)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_severity(text: str) -> Severity:
    """`high`, `normal` or `low` (case-insensitive): that severity or louder."""
    try:
        return Severity(text.strip().lower())
    except ValueError:
        words = ", ".join(s.value for s in Severity)
        raise FilterError(f"severity: {text!r} is not one of {words}") from None


def parse_filter(
    topic: str | None,
    *,
    now: datetime,
    since: str | None = None,
    severity: str | None = None,
    source: str | None = None,
    trial: str | None = None,
    text: str | None = None,
) -> AlertFilter:
    """The filter from typed values; empty ones (a blank form field) filter nothing."""

    def given(value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    since, severity = given(since), given(severity)
    return AlertFilter(
        topic=topic,
        since=parse_since(since, now) if since else None,
        severity=parse_severity(severity) if severity else None,
        source=given(source),
        trial=(given(trial) or "").upper() or None,  # trial ids are stored upper-case
        text=given(text),
    )


def parse_cursor(text: str | None) -> int | None:
    """The `cursor` a previous page gave (an alert id), or None for the first page."""
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < 1:
        raise FilterError(f"cursor: {text!r} is not a cursor this API gave")
    return int(text)


def parse_limit(text: str | None, default: int) -> int:
    """A page size from 1 to MAX_LIMIT."""
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise FilterError(f"limit: {text!r} is not a number from 1 to {MAX_LIMIT}")
    return int(text)
