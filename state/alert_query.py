"""THE alert query with filters and a cursor: the API, the Atom feed, MCP, the dashboard's
filters and `status --since/--severity` all read alerts through `alert_page`.

Newest first (by id); the cursor is the last id of the previous page, so a page never repeats
or skips an alert when new ones arrive meanwhile. `total` counts every alert the filter
matches, so "N more" stays honest under filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select

from state.codec import alert_from_rows, aware
from state.schema import alert, poll_state
from state.types import Alert, Severity

__all__ = ["SEVERITY_AT_LEAST", "AlertFilter", "AlertPage", "alert_page", "last_refreshed"]

# A severity filter means "this one or louder": `high` lists high alerts, `normal` adds normal.
SEVERITY_AT_LEAST = {
    Severity.HIGH: (Severity.HIGH,),
    Severity.NORMAL: (Severity.HIGH, Severity.NORMAL),
    Severity.LOW: (Severity.HIGH, Severity.NORMAL, Severity.LOW),
}


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts: of a topic (None: every topic), since a time, at least a severity, from a
    source (an id such as `pubmed` or `feed:EMA news`), about a trial, containing words."""

    topic: str | None = None
    since: datetime | None = None
    severity: Severity | None = None
    source: str | None = None
    trial: str | None = None
    text: str | None = None

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond the topic is filtered."""
        return any(
            v is not None for v in (self.since, self.severity, self.source, self.trial, self.text)
        )


@dataclass(frozen=True)
class AlertPage:
    """One page of alerts, newest first; `cursor`: give it back for the next page (None: last)."""

    alerts: tuple[Alert, ...]
    total: int
    cursor: int | None


def _conditions(which: AlertFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if which.topic is not None:
        found.append(alert.c.topic == which.topic)
    if which.since is not None:
        found.append(alert.c.created_at >= which.since)
    if which.severity is not None:
        found.append(alert.c.severity.in_([s.value for s in SEVERITY_AT_LEAST[which.severity]]))
    if which.source is not None:  # a family id (`feed`) or one instance (`feed:EMA news`)
        found.append(or_(alert.c.source == which.source, alert.c.source.like(f"{which.source}:%")))
    if which.trial is not None:  # the trial's own record, or an item that named it
        found.append(or_(alert.c.key == which.trial, alert.c.matched_alias == which.trial))
    if which.text is not None:
        words = which.text.lower()
        found.append(
            or_(
                *(
                    func.lower(column).contains(words, autoescape=True)
                    for column in (alert.c.title, alert.c.excerpt, alert.c.detail)
                )
            )
        )
    return found


def alert_page(
    engine: Engine, which: AlertFilter, *, limit: int | None, after: int | None = None
) -> AlertPage:
    """`limit` alerts (None: all) matching `which`, newest first, older than the alert id
    `after` (the previous page's cursor); one connection."""
    conditions = _conditions(which)
    query = select(alert).where(*conditions).order_by(alert.c.id.desc())
    if limit is not None:
        query = query.limit(limit + 1)  # one more: is there a next page?
    if after is not None:
        query = query.where(alert.c.id < after)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        total = connection.execute(
            select(func.count()).select_from(alert).where(*conditions)
        ).scalar_one()
    more = limit is not None and len(rows) > limit
    alerts = tuple(alert_from_rows(r) for r in rows[:limit])
    return AlertPage(alerts, total, alerts[-1].id if more and alerts else None)


def last_refreshed(connection: Connection, topic: str | None) -> datetime | None:
    """When a source last answered for `topic` (None: any topic): how fresh stored data is."""
    query = select(func.max(poll_state.c.last_success))
    if topic is not None:
        query = query.where(poll_state.c.topic == topic)
    return aware(connection.execute(query).scalar_one())
