"""A (topic, source)'s poll_state row read and written with Core: no ORM identity map or flush.

Every poll reads the row and writes it back once; through the ORM that was a `session.get`
and a unit-of-work flush per poll, more CPU than the statements themselves. The row is
returned as a detached PollStateRow (the pipeline reads and sets its attributes as before)
and saved with one UPDATE, or an INSERT the first time.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, Select, Update, bindparam, insert, select, update
from sqlmodel import Session

from state.schema import PollStateRow, poll_state

__all__ = ["load_state", "save_state"]


def load_state(session: Session, topic: str, source: str) -> PollStateRow:
    """The (topic, source)'s poll state; a new one if it was never polled."""
    read, _update, _insert = _statements()
    row = session.connection().execute(read, {"s_topic": topic, "s_source": source}).first()
    if row is None:
        return PollStateRow(topic=topic, source=source)
    return PollStateRow(**row._asdict())


def save_state(session: Session, state: PollStateRow) -> None:
    """Write `state` back in the caller's transaction (INSERT if the row is not there yet)."""
    _read, change, add = _statements()
    values = state.model_dump()
    connection = session.connection()
    keyed = {f"s_{name}": value for name, value in values.items()}
    if connection.execute(change, keyed).rowcount == 0:
        connection.execute(add, values)


@functools.cache
def _statements() -> tuple[Select[Any], Update, Insert]:
    """The row's SELECT, UPDATE and INSERT, built once."""
    table = poll_state
    key = (
        table.c.topic == bindparam("s_topic"),
        table.c.source == bindparam("s_source"),
    )
    kept = [c for c in table.c if c.name not in ("topic", "source")]
    change = (
        update(table)
        .where(*key)
        .values({c.name: bindparam(f"s_{c.name}", type_=c.type) for c in kept})
    )
    return select(table).where(*key), change, insert(table)
