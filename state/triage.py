"""The triage ledger: record acknowledge / snooze / mute actions once, and answer from them.

Rows are only ever added; every answer ("is this record snoozed at `at`?", "which fields of
this trial are muted?") is read from the rows up to a time, so the state at any moment (when
an alert was posted, when it is updated) can be asked again later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, or_
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from state.codec import alert_from_rows, aware
from state.schema import AlertRow, DeliveryRow, TriageActionRow, alert, delivery, triage_action
from state.triage_types import (
    Acknowledgement,
    Mute,
    SnoozedRecord,
    TriageAction,
    TriageKind,
    TriageSummary,
    UnackedAlert,
)
from state.types import Alert, DeliveryState, Severity

__all__ = [
    "REPEAT_WINDOW",
    "UNACKED_WINDOW",
    "PostedAlert",
    "Triage",
    "acknowledgements",
    "action_from_row",
    "mutes_of",
    "record_actions",
    "snooze_of",
    "triage_summary",
    "unacknowledged",
]


_SLACK = "slack"
# Identical clicks this close together are one (a double click, a nervous user, a burst).
REPEAT_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class PostedAlert:
    """An alert as posted to Slack: the message a click must come from."""

    alert: Alert
    ts: str
    channels: frozenset[str]  # the channel's id (and name) as stored, or its thread parent's
    delivered_at: datetime


def _changes_nothing(action: TriageAction, earlier: Sequence[TriageAction]) -> bool:
    """True when `action` would not change the state `earlier` actions left (a repeat)."""
    if action.kind is TriageKind.ACKNOWLEDGE:
        return any(
            a.kind is TriageKind.ACKNOWLEDGE and a.alert_id == action.alert_id for a in earlier
        )
    snooze = snooze_of(earlier, action.at)
    if action.kind is TriageKind.SNOOZE:
        return snooze is not None and action.until is not None and snooze.until >= action.until
    if action.kind is TriageKind.UNSNOOZE:
        return snooze is None
    muted = action.field in mutes_of(earlier)
    return muted if action.kind is TriageKind.MUTE else not muted


def _repeat_key(session: Session, action: TriageAction) -> str | None:
    """`repeat_of` @ the record's last ledger row that is not an identical click of the last
    REPEAT_WINDOW: identical clicks, together or in a burst, get one key and the unique index
    stores one; a click after the state changed (or after the window) gets a new one."""
    if action.repeat_of is None:
        return None
    mine = col(TriageActionRow.repeat_key).startswith(f"{action.repeat_of}@", autoescape=True)
    after = session.exec(
        select(func.max(TriageActionRow.id)).where(
            TriageActionRow.topic == action.topic,
            TriageActionRow.source == action.source,
            TriageActionRow.record_key == action.record_key,
            or_(
                col(TriageActionRow.repeat_key).is_(None),
                ~mine,
                col(TriageActionRow.at) <= action.at - REPEAT_WINDOW,
            ),
        )
    ).one()
    return f"{action.repeat_of}@{after or 0}"


class Triage:
    """The ledger's writes (one row per real action) and its reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, action: TriageAction) -> bool:
        """Store `action`; False (nothing stored) for a repeated click or a no-op."""
        with Session(self.engine) as session:
            repeat_key = _repeat_key(session, action)
            if (
                action.click is not None
                and session.exec(
                    select(TriageActionRow.id).where(TriageActionRow.click == action.click)
                ).first()
            ):
                return False
            earlier = record_actions(
                session.connection(), action.topic, action.source, action.record_key, None
            )
            if _changes_nothing(action, earlier):
                return False
            session.add(
                TriageActionRow(
                    at=action.at,
                    user_id=action.user_id,
                    user_name=action.user_name,
                    action=action.kind.value,
                    alert_id=action.alert_id,
                    topic=action.topic,
                    source=action.source,
                    record_key=action.record_key,
                    field=action.field,
                    until=action.until,
                    click=action.click,
                    repeat_key=repeat_key,
                )
            )
            try:
                session.commit()
            except IntegrityError:  # the same (or an identical) click, stored meanwhile
                session.rollback()
                return False
            return True

    def acknowledgement(self, alert_id: int) -> Acknowledgement | None:
        """Who acknowledged the alert first, if anyone."""
        with Session(self.engine) as session:
            row = session.exec(
                select(TriageActionRow)
                .where(
                    TriageActionRow.alert_id == alert_id,
                    TriageActionRow.action == TriageKind.ACKNOWLEDGE.value,
                )
                .order_by(col(TriageActionRow.id))
                .limit(1)
            ).first()
        return Acknowledgement(row.user_id, row.user_name, aware(row.at) or row.at) if row else None

    def snoozed(self, topic: str, source: str, key: str, at: datetime) -> SnoozedRecord | None:
        """The snooze of a record in force at `at`, if any."""
        with Session(self.engine) as session:
            return snooze_of(record_actions(session.connection(), topic, source, key, at), at)

    def muted_fields(self, topic: str, source: str, key: str, at: datetime) -> dict[str, Mute]:
        """The fields of a record muted at `at`."""
        with Session(self.engine) as session:
            return mutes_of(record_actions(session.connection(), topic, source, key, at))

    def posted(self, alert_id: int) -> PostedAlert | None:
        """The alert and its Slack message, if this bot posted it; None otherwise."""
        with Session(self.engine) as session:
            found = session.exec(
                select(AlertRow, DeliveryRow)
                .join(DeliveryRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(AlertRow.id == alert_id, DeliveryRow.destination == _SLACK)
                .where(DeliveryRow.state == DeliveryState.SENT.value)
            ).first()
            if found is None:
                return None
            alert_row, delivery = found
            ts, delivered_at = delivery.ref, aware(delivery.delivered_at)
            if not ts or delivered_at is None:
                return None
            channels = {c for c in (delivery.channel_id, delivery.channel) if c}
            if alert_row.thread_of is not None:  # a reply sits in its parent's channel
                parent = session.exec(
                    select(DeliveryRow).where(
                        DeliveryRow.alert_id == alert_row.thread_of,
                        DeliveryRow.destination == _SLACK,
                    )
                ).first()
                channels |= (
                    {c for c in (parent.channel_id, parent.channel) if c} if parent else set()
                )
            return PostedAlert(
                alert=alert_from_rows(alert_row, delivery),
                ts=ts,
                channels=frozenset(channels),
                delivered_at=delivered_at,
            )

    def summary(self, topic: str, at: datetime, *, recent: int = 5) -> TriageSummary:
        """Unacknowledged high alerts, snoozes and mutes in force, held alerts, recent actions."""
        with Session(self.engine) as session:
            return triage_summary(session.connection(), topic, at, recent=recent)

    def unacknowledged(self, topic: str, at: datetime) -> list[UnackedAlert]:
        """High alerts of `topic` posted to Slack within UNACKED_WINDOW that nobody acknowledged."""
        with Session(self.engine) as session:
            return unacknowledged(session.connection(), topic, at)


# High alerts older than this are history, not a to-do: "not acknowledged" looks this far back.
UNACKED_WINDOW = timedelta(days=14)
_SLACK = "slack"
_HELD = (DeliveryState.SNOOZED.value, DeliveryState.MUTED.value)


# Reads on a caller's connection (the status card's, in Core: no ORM session).


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
    query = core_select(triage_action).where(
        triage_action.c.topic == topic,
        triage_action.c.source == source,
        triage_action.c.record_key == key,
    )
    if at is not None:
        query = query.where(triage_action.c.at <= at)
    return [action_from_row(r) for r in connection.execute(query.order_by(triage_action.c.id))]


def unacknowledged(connection: Connection, topic: str, at: datetime) -> list[UnackedAlert]:
    """High alerts of `topic` posted to Slack within UNACKED_WINDOW that nobody acknowledged."""
    acked = core_select(triage_action.c.alert_id).where(
        triage_action.c.action == TriageKind.ACKNOWLEDGE.value
    )
    rows = connection.execute(
        core_select(alert)
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
        core_select(triage_action)
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
        core_select(alert.c.id, delivery.c.state, alert.c.title)
        .join(delivery, delivery.c.alert_id == alert.c.id)
        .where(alert.c.topic == topic, delivery.c.state.in_(_HELD))
        .where(alert.c.created_at >= at - UNACKED_WINDOW)
        .order_by(alert.c.id.desc())
        .limit(10)
    ).all()
    recent_actions = tuple(reversed(actions[-recent:])) if recent else ()
    titles = connection.execute(
        core_select(alert.c.id, alert.c.title).where(
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


def acknowledgements(
    engine: Engine, alert_ids: Iterable[int], at: datetime
) -> dict[int, Acknowledgement]:
    """The first acknowledgement up to `at` of each of these alerts that has one, by alert id.

    One read for every alert a page shows (the status card's summary keeps only the latest
    actions)."""
    wanted = set(alert_ids)
    if not wanted:
        return {}
    query = (
        core_select(triage_action)
        .where(
            triage_action.c.action == TriageKind.ACKNOWLEDGE.value,
            triage_action.c.alert_id.in_(wanted),
            triage_action.c.at <= at,
        )
        .order_by(triage_action.c.id.desc())  # the first one written is read last and wins
    )
    with engine.connect() as connection:
        actions = [action_from_row(row) for row in connection.execute(query)]
    return {a.alert_id: Acknowledgement(a.user_id, a.user_name, a.at) for a in actions}
