"""The source ids a topic has stored alerts from (for `release`: held alerts outlive config)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from state.schema import AlertRow

__all__ = ["alert_sources"]


def alert_sources(engine: Engine, topic: str) -> set[str]:
    """Every source id with at least one stored alert of `topic`."""
    query = select(AlertRow.source).where(col(AlertRow.topic) == topic).distinct()
    with Session(engine) as session:
        return set(session.exec(query).all())
