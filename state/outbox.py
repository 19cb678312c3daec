"""The alert outbox: what is due, leases so one deliverer at a time posts a row, and outcomes.

A deliverer takes a row (state `in_flight`, a lease token and an expiry) in its own commit
before posting, so two processes never post the same row and a crash leaves a trace. Taking
is atomic: PostgreSQL selects the row `FOR UPDATE SKIP LOCKED`; on both databases the UPDATE
repeats the "still due" condition and its row count says who won.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, and_, case, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from state.codec import alert_from_rows, aware
from state.schema import AlertRow, DeliveryRow, delivery
from state.types import Alert, DeliveryState, DestinationHealth, Severity

__all__ = [
    "DEFAULT_DELIVERY_LEASE",
    "MAX_REFUSALS",
    "DeliveryLease",
    "DestinationHealth",
    "Outbox",
    "ThreadParent",
    "destination_health",
]


# Longer than one post can take with the Slack client's timeouts and retries (a few minutes at
# worst): a row held longer than this belongs to a deliverer that died and may be taken over.
DEFAULT_DELIVERY_LEASE = timedelta(minutes=5)

# Unexplained refusals of one delivery before it is failed with the destination's reason.
MAX_REFUSALS = 3

_PENDING = DeliveryState.PENDING.value
_IN_FLIGHT = DeliveryState.IN_FLIGHT.value
_FAILED = DeliveryState.FAILED.value
_WAITING = (_PENDING, _IN_FLIGHT)
_RANK = {Severity.LOW: 0, Severity.NORMAL: 1, Severity.HIGH: 2}


@dataclass(frozen=True)
class DeliveryLease:
    """A delivery row this deliverer alone may post, until the lease expires."""

    alert: Alert
    token: str
    # An earlier attempt may have reached the destination since then: look before posting.
    unverified_since: datetime | None


@dataclass(frozen=True)
class ThreadParent:
    """Where a follow-up goes: the parent's message, or wait for it, or post on its own."""

    waiting: bool = False  # the parent is not posted yet: keep the follow-up pending
    channel: str | None = None  # the parent's channel (its id once known)
    ts: str | None = None  # the parent's message ts


def _due(at: datetime) -> ColumnElement[bool]:
    """Pending, or taken by a deliverer whose lease has run out (it crashed or hung)."""
    return or_(
        col(DeliveryRow.state) == _PENDING,
        and_(col(DeliveryRow.state) == _IN_FLIGHT, col(DeliveryRow.lease_until) < at),
    )


def _severity_from(floor: Severity) -> ColumnElement[bool]:
    """The alert is at least as severe as `floor`."""
    return col(AlertRow.severity).in_([s.value for s in Severity if _RANK[s] >= _RANK[floor]])


def _alert(row: AlertRow, delivery: DeliveryRow) -> Alert:
    return alert_from_rows(row, delivery)


class Outbox:
    """Deliveries of alerts to destinations (slack, console, [[notify]]) and their states."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count_pending(self, destination: str, *, below: Severity | None = None) -> int:
        """How many deliveries to `destination` are not delivered yet (`below`: less severe)."""
        query = (
            select(func.count())
            .select_from(DeliveryRow)
            .where(DeliveryRow.destination == destination)
            .where(col(DeliveryRow.state).in_((_PENDING, _IN_FLIGHT)))
        )
        if below is not None:
            query = query.join(AlertRow, col(DeliveryRow.alert_id) == col(AlertRow.id)).where(
                ~_severity_from(below)
            )
        with Session(self.engine) as session:
            return session.exec(query).one()

    def waits_below(self, alert_id: int, destination: str, severity: Severity) -> bool:
        """Whether alert `alert_id`, less severe than `severity`, is pending for `destination`."""
        with Session(self.engine) as session:
            found = session.exec(
                select(DeliveryRow.id)
                .join(AlertRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(DeliveryRow.alert_id == alert_id, DeliveryRow.destination == destination)
                .where(col(DeliveryRow.state) == _PENDING, ~_severity_from(severity))
                .limit(1)
            ).first()
            return found is not None

    def next_due(
        self,
        destination: str,
        *,
        at: datetime,
        skip: Collection[int] = (),
        min_severity: Severity | None = None,
    ) -> Alert | None:
        """The oldest delivery to `destination` that may be taken now, except those in `skip`;
        only alerts from `min_severity` on when it is given (quiet hours)."""
        with Session(self.engine) as session:
            query = (
                select(AlertRow, DeliveryRow)
                .join(DeliveryRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(DeliveryRow.destination == destination, _due(at))
                .order_by(col(AlertRow.id), col(DeliveryRow.id))
                .limit(1)
            )
            if skip:
                query = query.where(col(DeliveryRow.id).not_in(list(skip)))
            if min_severity is not None:
                query = query.where(_severity_from(min_severity))
            found = session.exec(query).first()
            return _alert(*found) if found else None

    def take(self, delivery_id: int, *, at: datetime, ttl: timedelta) -> DeliveryLease | None:
        """Take a due row for this deliverer (committed before posting); None if not ours."""
        with Session(self.engine) as session:
            query = select(DeliveryRow).where(DeliveryRow.id == delivery_id, _due(at))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            if session.exec(query).first() is None:
                return None  # delivered, failed, or another deliverer holds it
            token = uuid.uuid4().hex
            taken = session.exec(
                update(DeliveryRow)
                .where(col(DeliveryRow.id) == delivery_id, _due(at))
                .values(state=_IN_FLIGHT, lease_token=token, lease_until=at + ttl)
            )
            if taken.rowcount != 1:  # SQLite: another process took it since our SELECT
                session.rollback()
                return None
            row = session.get_one(DeliveryRow, delivery_id, populate_existing=True)
            alert_row = session.get_one(AlertRow, row.alert_id)
            lease = DeliveryLease(
                alert=_alert(alert_row, row), token=token, unverified_since=aware(row.posting_since)
            )
            # The earliest attempt that may have posted bounds the history check.
            row.posting_since = row.posting_since or at
            session.add(row)
            session.commit()
            return lease

    def mark_sent(
        self,
        delivery_id: int,
        *,
        at: datetime,
        token: str,
        ref: str | None = None,
        channel_id: str | None = None,
    ) -> bool:
        """A delivery succeeded: never send it again (only if the lease is still ours)."""
        values = {
            "state": DeliveryState.SENT.value,
            "attempts": DeliveryRow.attempts + 1,
            "delivered_at": at,
            "last_attempt_at": at,
            "ref": ref,
            # A re-routed delivery keeps why it was re-routed: `status` shows it.
            "last_error": case(
                (col(DeliveryRow.meant_for).is_(None), None), else_=DeliveryRow.last_error
            ),
            "lease_token": None,
            "lease_until": None,
            "posting_since": None,
        }
        if channel_id is not None:
            values["channel_id"] = channel_id
        return self._update(delivery_id, token, values)

    def mark_attempt_failed(
        self,
        delivery_id: int,
        *,
        at: datetime,
        error: str,
        token: str,
        permanent: bool = False,
        maybe_posted: bool = False,
    ) -> bool:
        """An attempt failed: pending again (or failed for good if `permanent`).

        `maybe_posted`: the post may have reached the destination anyway (a timeout after
        sending), so the next attempt looks at the channel first.
        """
        values: dict[str, object] = {
            "attempts": DeliveryRow.attempts + 1,
            "last_attempt_at": at,
            "last_error": error,
            "state": _FAILED if permanent else _PENDING,
            "lease_token": None,
            "lease_until": None,
        }
        if not maybe_posted:
            values["posting_since"] = None
        return self._update(delivery_id, token, values)

    def hold(
        self, delivery_id: int, *, at: datetime, token: str, state: DeliveryState, why: str
    ) -> bool:
        """Held on purpose by triage (`snoozed`, `muted`): never taken again; `why` is kept."""
        values: dict[str, object] = {
            "state": state.value,
            "last_attempt_at": at,
            "last_error": why,  # not an error: the reason status and the digest show
            "lease_token": None,
            "lease_until": None,
            "posting_since": None,
        }
        return self._update(delivery_id, token, values)

    def refuse(
        self, delivery_id: int, *, at: datetime, error: str, token: str, limit: int = MAX_REFUSALS
    ) -> DeliveryState | None:
        """The destination refused this alert without a known reason: count it.

        Pending again until `limit` refusals, then failed with `error`; None if the lease
        was no longer ours. Transient failures (mark_attempt_failed) are not counted here.
        """
        values: dict[str, object] = {
            "attempts": DeliveryRow.attempts + 1,
            "refusals": DeliveryRow.refusals + 1,
            "last_attempt_at": at,
            "last_error": error,
            "state": case((col(DeliveryRow.refusals) + 1 >= limit, _FAILED), else_=_PENDING),
            "lease_token": None,
            "lease_until": None,
            "posting_since": None,
        }
        if not self._update(delivery_id, token, values):
            return None
        with Session(self.engine) as session:
            return DeliveryState(session.get_one(DeliveryRow, delivery_id).state)

    def reroute(
        self, delivery_id: int, *, at: datetime, error: str, to_channel: str, token: str
    ) -> bool:
        """The channel refused this delivery for good: send it to `to_channel` instead.

        The same row moves (one delivery per alert and destination stays true); `meant_for`
        and `last_error` keep why, and `status` lists it with the failed deliveries.
        """
        with Session(self.engine) as session:
            row = session.get_one(DeliveryRow, delivery_id)
            if row.lease_token != token or row.state != _IN_FLIGHT or row.meant_for:
                return False
            row.meant_for, row.channel, row.channel_id = row.channel, to_channel, None
            row.state = _PENDING
            row.attempts += 1
            row.last_attempt_at = at
            row.last_error = f"{error} in {row.meant_for}; re-routed to {to_channel}"
            row.lease_token = row.lease_until = row.posting_since = None
            session.add(row)
            session.commit()
            return True

    def thread_parent(self, alert_id: int, destination: str) -> ThreadParent:
        """Where the follow-ups of alert `alert_id` go on `destination`."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(DeliveryRow)
                .where(DeliveryRow.alert_id == alert_id, DeliveryRow.destination == destination)
                .order_by(col(DeliveryRow.id))
            ).all()
        for row in rows:
            if row.state == DeliveryState.SENT.value and row.ref:
                return ThreadParent(channel=row.channel_id or row.channel, ts=row.ref)
        if any(row.state in (_PENDING, _IN_FLIGHT) for row in rows):
            return ThreadParent(waiting=True)
        return ThreadParent()  # the parent was never delivered here: post on its own

    def channel_id(self, channel: str) -> str | None:
        """Slack's id for a channel name, as learnt from an earlier successful post."""
        with Session(self.engine) as session:
            return session.exec(
                select(DeliveryRow.channel_id)
                .where(DeliveryRow.channel == channel, col(DeliveryRow.channel_id).is_not(None))
                .limit(1)
            ).first()

    def health(self, destinations: Collection[str] = ()) -> list[DestinationHealth]:
        """Per destination: pending and failed counts, last delivery, what is going wrong.

        `destinations` are listed even before their first delivery; any other destination
        with rows (e.g. one removed from the configuration) is listed too.
        """
        with Session(self.engine) as session:
            return destination_health(session.connection(), destinations)

    def _update(self, delivery_id: int, token: str, values: dict[str, object]) -> bool:
        # A deliverer whose lease was taken over must not write.
        query = update(DeliveryRow).where(
            col(DeliveryRow.id) == delivery_id,
            col(DeliveryRow.lease_token) == token,
            col(DeliveryRow.state) == _IN_FLIGHT,
        )
        with Session(self.engine) as session:
            result = session.exec(query.values(values))
            session.commit()
            return bool(result.rowcount == 1)


# Each destination's delivery health, on a caller's connection (Core: `status` builds no ORM).


def destination_health(
    connection: Connection, destinations: Collection[str] = ()
) -> list[DestinationHealth]:
    """Per destination: pending and failed counts, last delivery, what is going wrong
    (`destinations` listed even before their first delivery)."""
    counts = connection.execute(
        core_select(
            delivery.c.destination,
            func.sum(case((delivery.c.state.in_(_WAITING), 1), else_=0)),
            func.sum(case((delivery.c.state == _FAILED, 1), else_=0)),
            func.max(delivery.c.delivered_at),
        ).group_by(delivery.c.destination)
    ).all()
    found = {name: DestinationHealth(name) for name in destinations}
    for name, pending, failed, delivered in counts:
        retry = _latest_error(connection, name, _WAITING)
        gave_up = _latest_error(connection, name, (_FAILED,))
        found[name] = DestinationHealth(
            destination=name,
            pending=int(pending or 0),
            failed=int(failed or 0),
            last_delivered=aware(delivered),
            retry_error=retry.last_error if retry else None,
            retry_since=aware(retry.last_attempt_at) if retry else None,
            last_failed_at=aware(gave_up.last_attempt_at) if gave_up else None,
            last_failed_error=gave_up.last_error if gave_up else None,
        )
    return sorted(found.values(), key=lambda h: h.destination)


def _latest_error(
    connection: Connection, destination: str, states: tuple[str, ...]
) -> Row[Any, Any] | None:
    """The most recently attempted row of `destination` in `states` that has an error."""
    return connection.execute(
        core_select(delivery.c.last_error, delivery.c.last_attempt_at)
        .where(delivery.c.destination == destination, delivery.c.state.in_(states))
        .where(delivery.c.last_error.is_not(None), delivery.c.meant_for.is_(None))
        .order_by(delivery.c.last_attempt_at.desc(), delivery.c.id.desc())
        .limit(1)
    ).first()
