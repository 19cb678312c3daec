"""Date windows for sources searched by publication date (Federal Register, SEC, medRxiv)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

__all__ = ["MAX_CATCH_UP", "THROUGH_KEY", "window_start"]

# Poll meta key: the last day a successful poll covered.
THROUGH_KEY = "through"
# After a long outage, look back at most this far (older items are history, not news).
MAX_CATCH_UP = timedelta(days=365)


def window_start(
    today: date,
    lookback: timedelta,
    meta: Mapping[str, str],
    max_catch_up: timedelta = MAX_CATCH_UP,
) -> date:
    """`today - lookback`, or a day before the last success when that was longer ago."""
    since = today - lookback
    try:
        last = date.fromisoformat(meta[THROUGH_KEY]) if meta.get(THROUGH_KEY) else None
    except ValueError:
        last = None
    if last is not None and last - timedelta(days=1) < since:
        since = max(last - timedelta(days=1), today - max_catch_up)
    return since
