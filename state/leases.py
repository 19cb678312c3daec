"""Poll leases: one process at a time polls a (topic, source), and not again moments later.

The lease lives in the pair's `poll_state` row. Taking it is one conditional UPDATE whose row
count says who won; the very first poll of a pair INSERTs the row, and the primary key settles
a race between two first polls. A lease runs out by itself, so a crashed poller blocks nobody
for longer than its time to live.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from state.tables import PollStateRow

__all__ = ["DEFAULT_POLL_LEASE", "PollLeases"]

# Longer than any one poll (a few requests, each with its timeout and retries).
DEFAULT_POLL_LEASE = timedelta(minutes=15)


class PollLeases:
    """The poll leases of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take(
        self,
        topic: str,
        source: str,
        *,
        owner: str,
        at: datetime,
        ttl: timedelta = DEFAULT_POLL_LEASE,
        min_gap: timedelta | None = None,
    ) -> bool:
        """Take the lease on (topic, source) for `owner`; False if held or polled recently.

        `min_gap`: also refuse when the pair was polled less than this long ago (by anyone),
        so two schedulers on one database poll each source once per interval, not once each.
        """
        return _take(self.engine, topic, source, owner, at, ttl, min_gap)

    def release(self, topic: str, source: str, *, owner: str) -> None:
        """Give the lease back (only if `owner` still holds it)."""
        _release(self.engine, topic, source, owner)


def _take(
    engine: Engine,
    topic: str,
    source: str,
    owner: str,
    at: datetime,
    ttl: timedelta,
    min_gap: timedelta | None,
) -> bool:
    conditions = [
        col(PollStateRow.topic) == topic,
        col(PollStateRow.source) == source,
        or_(col(PollStateRow.lease_owner).is_(None), col(PollStateRow.lease_until) < at),
    ]
    if min_gap is not None:
        last = col(PollStateRow.last_attempt)
        conditions.append(or_(last.is_(None), last <= at - min_gap))
    with Session(engine) as session:
        taken = session.exec(
            update(PollStateRow).where(*conditions).values(lease_owner=owner, lease_until=at + ttl)
        )
        session.commit()
        if taken.rowcount == 1:
            return True
        if session.get(PollStateRow, (topic, source)) is not None:
            return False  # held by another poller, or polled within min_gap
    # The first poll of this pair: whoever inserts the row first holds the lease.
    with Session(engine) as session:
        session.add(
            PollStateRow(topic=topic, source=source, lease_owner=owner, lease_until=at + ttl)
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def _release(engine: Engine, topic: str, source: str, owner: str) -> None:
    with Session(engine) as session:
        session.exec(
            update(PollStateRow)
            .where(
                col(PollStateRow.topic) == topic,
                col(PollStateRow.source) == source,
                col(PollStateRow.lease_owner) == owner,
            )
            .values(lease_owner=None, lease_until=None)
        )
        session.commit()
