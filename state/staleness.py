"""Is a source serving data older than its spec allows (`max_data_age`)?"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from watchers.registry import find_spec

__all__ = ["DATA_TIMESTAMP", "stale_note"]

# The poll-meta key under which a watcher keeps when the source's data was last refreshed
# (ClinicalTrials.gov: `/version` dataTimestamp, `yyyy-MM-ddTHH:mm:ss` UTC,
# docs/sources.md#clinicaltrialsgov).
DATA_TIMESTAMP = "data_timestamp"


def stale_note(source: str, meta: Mapping[str, str], checked_at: datetime | None) -> str | None:
    """Plain words when the data served at the last successful check was too old, else None."""
    spec = find_spec(source)  # how old its data may get is a trait of the source's spec
    limit = spec.max_data_age if spec is not None else None
    raw = meta.get(DATA_TIMESTAMP)
    if limit is None or raw is None or checked_at is None:
        return None
    refreshed = _utc(raw)
    if refreshed is None:
        return None  # an unreadable timestamp says nothing about freshness
    # Measured against the last successful check, not the wall clock: a source that stopped
    # answering is "failing" (health says so), not stale.
    age = checked_at - refreshed
    if age <= limit:
        return None
    return (
        f"data last refreshed {refreshed:%Y-%m-%d %H:%M} UTC, {_days(age)} before the last "
        f"successful check (expected within {_days(limit)})"
    )


def _utc(raw: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:.1f} days" if days % 1 else f"{days:.0f} days"
