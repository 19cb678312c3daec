"""Each destination's delivery health, read on a caller's connection (Core: `status` builds no
ORM): pending and failed counts, the last delivery, and what is going wrong."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, case, func, select

from state.codec import aware
from state.schema import delivery
from state.types import DeliveryState, DestinationHealth

__all__ = ["destination_health"]

_FAILED = DeliveryState.FAILED.value
_WAITING = (DeliveryState.PENDING.value, DeliveryState.IN_FLIGHT.value)


def destination_health(
    connection: Connection, destinations: Collection[str] = ()
) -> list[DestinationHealth]:
    """Per destination: pending and failed counts, last delivery, what is going wrong
    (`destinations` listed even before their first delivery)."""
    counts = connection.execute(
        select(
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
        select(delivery.c.last_error, delivery.c.last_attempt_at)
        .where(delivery.c.destination == destination, delivery.c.state.in_(states))
        .where(delivery.c.last_error.is_not(None), delivery.c.meant_for.is_(None))
        .order_by(delivery.c.last_attempt_at.desc(), delivery.c.id.desc())
        .limit(1)
    ).first()
