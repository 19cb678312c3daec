"""Reads of the triage ledger on a caller's connection (Core: `status` builds no ORM).

Rows are only ever added; every answer is read from the rows up to a time (state/triage.py
records them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select

from state.codec import aware
from state.schema import alert, delivery, triage_action
from state.triage_types import (
    Mute,
    SnoozedRecord,
    TriageAction,
    TriageKind,
    TriageSummary,
    UnackedAlert,
)
from state.types import DeliveryState, Severity

__all__ = [
    "UNACKED_WINDOW",
    "action_from_row",
    "mutes_of",
    "record_actions",
    "snooze_of",
    "triage_summary",
    "unacknowledged",
]

# High alerts older than this are history, not a to-do: "not acknowledged" looks this far back.
UNACKED_WINDOW = timedelta(days=14)
_SLACK = "slack"
_HELD = (DeliveryState.SNOOZED.value, DeliveryState.MUTED.value)


def action_from_row(row: Row[Any]) -> TriageAction:
    """A triage_action row as a TriageAction."""
    return TriageAction(
        id=row.id,
        at=aware(row.at) or row.at,
        user_id=row.user_id,
        user_name=row.user_name,
        kind=TriageKind(row.action),
        alert_id=row.alert_id,
        topic=row.topic,
        source=row.source,
        record_key=row.record_key,
        field=row.field,
        until=aware(row.until),
        click=row.click,
    )


def snooze_of(actions: Sequence[TriageAction], at: datetime) -> SnoozedRecord | None:
    """The record's snooze in force at `at`, from its actions in order."""
    last = next(
        (a for a in reversed(actions) if a.kind in (TriageKind.SNOOZE, TriageKind.UNSNOOZE)), None
    )
    if last is None or last.kind is TriageKind.UNSNOOZE or last.until is None or last.until <= at:
        return None
    return SnoozedRecord(
        last.topic, last.source, last.record_key, last.until, last.user_id, last.user_name, last.at
    )


def mutes_of(actions: Sequence[TriageAction]) -> dict[str, Mute]:
    """The record's muted fields (the latest mute / unmute of each field wins)."""
    muted: dict[str, Mute] = {}
    for a in actions:
        if a.field is None:
            continue
        if a.kind is TriageKind.MUTE:
            muted[a.field] = Mute(
                a.topic, a.source, a.record_key, a.field, a.user_id, a.user_name, a.at
            )
        elif a.kind is TriageKind.UNMUTE:
            muted.pop(a.field, None)
    return muted


def record_actions(
    connection: Connection, topic: str, source: str, key: str, at: datetime | None
) -> list[TriageAction]:
    """One record's actions in the order they were taken (up to `at`, if given)."""
    query = select(triage_action).where(
        triage_action.c.topic == topic,
        triage_action.c.source == source,
        triage_action.c.record_key == key,
    )
    if at is not None:
        query = query.where(triage_action.c.at <= at)
    return [action_from_row(r) for r in connection.execute(query.order_by(triage_action.c.id))]


def unacknowledged(connection: Connection, topic: str, at: datetime) -> list[UnackedAlert]:
    """High alerts of `topic` posted to Slack within UNACKED_WINDOW that nobody acknowledged."""
    acked = select(triage_action.c.alert_id).where(
        triage_action.c.action == TriageKind.ACKNOWLEDGE.value
    )
    rows = connection.execute(
        select(alert)
        .join(delivery, delivery.c.alert_id == alert.c.id)
        .where(alert.c.topic == topic, alert.c.severity == Severity.HIGH.value)
        .where(delivery.c.destination == _SLACK)
        .where(delivery.c.state == DeliveryState.SENT.value)
        .where(alert.c.created_at >= at - UNACKED_WINDOW)
        .where(alert.c.id.not_in(acked))
        .order_by(alert.c.id.desc())
    )
    return [
        UnackedAlert(r.id or 0, aware(r.created_at) or r.created_at, r.source, r.key, r.title)
        for r in rows
    ]


def triage_summary(
    connection: Connection, topic: str, at: datetime, *, recent: int = 5
) -> TriageSummary:
    """Unacknowledged high alerts, snoozes and mutes in force, held alerts, recent actions and
    their alerts' titles (on the caller's connection: the status card reads everything on one)."""
    rows = connection.execute(
        select(triage_action)
        .where(triage_action.c.topic == topic, triage_action.c.at <= at)
        .order_by(triage_action.c.id)
    )
    actions = [action_from_row(r) for r in rows]
    by_record: dict[tuple[str, str], list[TriageAction]] = {}
    for a in actions:
        by_record.setdefault((a.source, a.record_key), []).append(a)
    snoozed = [s for r in by_record.values() if (s := snooze_of(r, at))]
    muted = [m for r in by_record.values() for m in mutes_of(r).values()]
    held = connection.execute(
        select(alert.c.id, delivery.c.state, alert.c.title)
        .join(delivery, delivery.c.alert_id == alert.c.id)
        .where(alert.c.topic == topic, delivery.c.state.in_(_HELD))
        .where(alert.c.created_at >= at - UNACKED_WINDOW)
        .order_by(alert.c.id.desc())
        .limit(10)
    ).all()
    recent_actions = tuple(reversed(actions[-recent:])) if recent else ()
    titles = connection.execute(
        select(alert.c.id, alert.c.title).where(
            alert.c.id.in_({a.alert_id for a in recent_actions})
        )
    ).all()
    return TriageSummary(
        unacked_high=tuple(unacknowledged(connection, topic, at)),
        snoozed=tuple(sorted(snoozed, key=lambda s: s.until)),
        muted=tuple(muted),
        held=tuple((int(i or 0), str(s), t) for i, s, t in held),
        recent=recent_actions,
        titles={int(i): str(t) for i, t in titles},
    )
