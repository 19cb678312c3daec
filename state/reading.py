"""StoredState: what commands that only read stored state open (`status`, `report`).

The database engine, the migration check and the status reads, in SQLAlchemy Core: no ORM,
no poll, outbox or digest code, so `trialwatch status` starts quickly (issue 10). Store
(state/store.py) is a StoredState that also polls, delivers and prunes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select, text

from state.codec import observation_from_row
from state.engine import DEFAULT_CONNECTIONS, create_store_engine
from state.migrate import upgrade
from state.schema import snapshot
from state.status_read import CARD_ALERTS, StatusCache, source_health
from state.triage_read import unacknowledged
from state.triage_types import UnackedAlert
from state.types import SourceHealth, StoredObservation, TopicStatus

__all__ = ["StoredState", "open_engine"]


def open_engine(
    url: str, *, migrate: bool = True, connections: int = DEFAULT_CONNECTIONS
) -> Engine:
    """An engine for `url` whose schema is at the newest migration: pending ones applied
    (migrate=False: refused with SchemaOutOfDateError)."""
    engine = create_store_engine(url, connections=connections)
    try:
        upgrade(engine, apply=migrate)
    except BaseException:
        engine.dispose()
        raise
    return engine


class StoredState:
    """Snapshots, status cards, source health and the triage to-do, read from the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._status_cache = StatusCache()

    @classmethod
    def open(
        cls, url: str, *, migrate: bool = True, connections: int = DEFAULT_CONNECTIONS
    ) -> StoredState:
        """Open the database at `url`, applying pending migrations as every command does
        (migrate=False: refuse them); `connections`: the most threads that use it at once."""
        return StoredState(open_engine(url, migrate=migrate, connections=connections))

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def ping(self) -> None:
        """Run a trivial query; raises (SQLAlchemyError) when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def snapshot(self, topic: str, source: str) -> dict[str, StoredObservation]:
        """The stored observations of one (topic, source), by key."""
        query = select(snapshot).where(snapshot.c.topic == topic, snapshot.c.source == source)
        with self.engine.connect() as connection:
            return {row.key: observation_from_row(row) for row in connection.execute(query)}

    def status(
        self, topic: str, *, alerts: int | None = CARD_ALERTS, at: datetime | None = None
    ) -> TopicStatus:
        """Trials, `alerts` alerts (important first; None: all), failed deliveries and source
        health of a topic; with `at`, its triage too (unacknowledged high alerts, snoozes and
        mutes in force at `at`).

        One connection; not re-read while the database is unchanged (state/status_read.py)."""
        with self.engine.connect() as connection:
            return self._status_cache.read(connection, topic, alerts=alerts, at=at)

    def health(self, topic: str | None = None) -> list[SourceHealth]:
        """Source health rows, for one topic or all."""
        with self.engine.connect() as connection:
            return source_health(connection, topic)

    def unacknowledged(self, topic: str, at: datetime) -> list[UnackedAlert]:
        """High alerts of `topic` posted to Slack lately that nobody acknowledged."""
        with self.engine.connect() as connection:
            return unacknowledged(connection, topic, at)
