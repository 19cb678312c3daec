"""How many alerts each destination delivered in a period, whoever delivered them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from state.schema import DeliveryRow
from state.types import DeliveryState

__all__ = ["delivered_between"]


def delivered_between(engine: Engine, start: datetime, end: datetime) -> dict[str, int]:
    """Per destination, the deliveries marked sent in [start, end] by any process."""
    query = (
        select(DeliveryRow.destination, func.count())
        .where(
            col(DeliveryRow.state) == DeliveryState.SENT.value,
            col(DeliveryRow.delivered_at) >= start.astimezone(UTC),
            col(DeliveryRow.delivered_at) <= end.astimezone(UTC),
        )
        .group_by(col(DeliveryRow.destination))
    )
    with Session(engine) as session:
        return {destination: int(count) for destination, count in session.exec(query).all()}
