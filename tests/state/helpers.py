"""Reads and shortcuts only tests use, kept out of the production classes they inspect."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from state.codec import alert_from_rows
from state.outbox import Outbox
from state.poll.leases import DEFAULT_POLL_LEASE, PollLeases
from state.schema import AlertRow, DeliveryRow, PollStateRow
from state.store import Destinations, Routes, Store
from state.types import Alert, DeliveryState

__all__ = ["pending_alerts", "poll_meta", "routed", "take"]

_WAITING = (DeliveryState.PENDING.value, DeliveryState.IN_FLIGHT.value)


def pending_alerts(outbox: Outbox, destination: str, *, limit: int = 200) -> list[Alert]:
    """Alerts not yet delivered to `destination` (pending or in flight), oldest first."""
    with Session(outbox.engine) as session:
        rows = session.exec(
            select(AlertRow, DeliveryRow)
            .join(DeliveryRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
            .where(DeliveryRow.destination == destination)
            .where(col(DeliveryRow.state).in_(_WAITING))
            .order_by(col(AlertRow.id), col(DeliveryRow.id))
            .limit(limit)
        ).all()
        return [alert_from_rows(a, d) for a, d in rows]


def routed(store: Store, destinations: Destinations) -> Store:
    """`store`, its alerts routed to `destinations` for every topic (as start-up gives routes)."""
    store.routes = Routes(default=destinations)
    return store


def poll_meta(store: Store, topic: str, source: str) -> dict[str, str]:
    """What the last successful poll of (topic, source) asked to keep for the next one."""
    with Session(store.engine) as session:
        row = session.get(PollStateRow, (topic, source))
        return dict(json.loads(row.meta_json)) if row else {}


def take(
    leases: PollLeases,
    topic: str,
    source: str,
    *,
    owner: str,
    at: datetime,
    ttl: timedelta = DEFAULT_POLL_LEASE,
    min_gap: timedelta | None = None,
) -> bool:
    """Take the lease on (topic, source) for `owner`; False if held or polled recently."""
    taken = leases.take_with_meta(topic, source, owner=owner, at=at, ttl=ttl, min_gap=min_gap)
    return taken is not None
