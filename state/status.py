"""The status card's reads: all on one connection, and remembered until the database changes.

`/status` is asked by many people at once and the data changes once per poll: a card read
from the database is kept with a stamp of what the database held, and given again only while
a fresh stamp is equal, so an answer is never older than the latest stored poll or alert.

The stamp is exact, not a timer:
- PostgreSQL: `pg_current_snapshot()` (the transactions a query sees as committed); an equal
  snapshot sees exactly the same rows. It changes with any write on the server, which only
  costs a re-read.
- SQLite: per connection, `data_version` (changes when another connection commits) and
  `total_changes()` (rows this connection changed), plus that connection's identity.
- Any other database: no stamp, so no reuse.
The stamp is read before the rows, so a remembered card is never older than its stamp.

StoredState is what commands that only read open (`status`, `report`): the engine, the
migration check and these reads, in SQLAlchemy Core with no poll, outbox or digest code, so
`trialwatch status` starts quickly (issue 10). Store (state/store.py) is a StoredState that
also polls, delivers and prunes.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Hashable
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    case,
    create_engine,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.pool import NullPool

from state.codec import alert_from_rows, aware, health_from_row, observation_from_row
from state.engine import DEFAULT_CONNECTIONS, create_store_engine
from state.history import health_in, versions_in
from state.migrate import upgrade
from state.outbox import destination_health
from state.schema import alert, delivery, from_sources, poll_state, snapshot, triage_action
from state.staleness import stale_note
from state.triage import triage_summary, unacknowledged
from state.triage_types import TriageKind, TriageSummary, UnackedAlert
from state.types import DeliveryState, Severity, SourceHealth, StoredObservation, TopicStatus
from watchers.registry import specs_where
from watchers.spec import SourceKind

__all__ = [
    "CARD_ALERTS",
    "TRIAGE_TTL",
    "DataGeneration",
    "StatusCache",
    "StoredState",
    "data_stamp",
    "open_engine",
    "read_status",
    "source_health",
]


# How long a card's triage (snoozes in force, unacknowledged alerts) is given again unchanged:
# its times are shown to the minute; a write to the database ends it at once.
TRIAGE_TTL = timedelta(seconds=1)
# Alerts a card shows (the most important first); it counts the rest and says how to list them.
CARD_ALERTS = 5

_CONNECTION_IDS = itertools.count(1)
_CONNECTION_KEY = "trialwatch_stamp_id"  # in the pooled connection's info: new DBAPI, new id


def data_stamp(connection: Connection) -> tuple[Hashable, Hashable] | None:
    """(scope, version): what the database holds as seen from `connection`; two equal
    stamps saw the same rows. None: no cheap exact stamp for this database."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return None, connection.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
    if dialect != "sqlite":
        return None
    # SQLAlchemy clears `info` when it replaces the DBAPI connection, so the id names one.
    identity = connection.info.setdefault(_CONNECTION_KEY, next(_CONNECTION_IDS))
    row = connection.execute(
        text("SELECT (SELECT data_version FROM pragma_data_version), total_changes()")
    ).one()
    return identity, (row[0], row[1])


def _important_first() -> Any:
    """0 for a high alert nobody acknowledged, else 1: what the card lists first (issue 21)."""
    acked = select(triage_action.c.alert_id).where(
        triage_action.c.action == TriageKind.ACKNOWLEDGE.value
    )
    unacked_high = and_(alert.c.severity == Severity.HIGH.value, alert.c.id.not_in(acked))
    return case((unacked_high, 0), else_=1)


def read_status(
    connection: Connection, topic: str, *, alerts: int | None = CARD_ALERTS
) -> TopicStatus:
    """Trials, alerts (unacknowledged high ones first, then newest; `alerts` of them, None:
    all), failed deliveries and source health of a topic (one connection)."""
    trial_rows = connection.execute(
        select(snapshot)
        .where(
            snapshot.c.topic == topic,
            from_sources(snapshot.c.source, specs_where(kind=SourceKind.TRIAL_REGISTRY)),
        )
        .order_by(snapshot.c.key)
    ).all()
    alert_rows = connection.execute(
        select(alert)
        .where(alert.c.topic == topic)
        .order_by(_important_first(), alert.c.id.desc())
        .limit(alerts)
    ).all()
    alert_count = connection.execute(
        select(func.count()).select_from(alert).where(alert.c.topic == topic)
    ).scalar_one()
    failed = connection.execute(
        select(alert, delivery)
        .join(delivery, delivery.c.alert_id == alert.c.id)
        .where(alert.c.topic == topic)
        .where(  # re-routed ones too: their own channel refused them for good
            or_(
                delivery.c.state == DeliveryState.FAILED.value,
                delivery.c.meant_for.is_not(None),
            )
        )
        .order_by(alert.c.id.desc())
        .limit(alerts)
    ).all()
    keys = [r.key for r in trial_rows]
    return TopicStatus(
        topic=topic,
        trials=tuple(observation_from_row(r) for r in trial_rows),
        history={k: tuple(v) for k, v in versions_in(connection, keys).items()},
        history_health=tuple(health_in(connection, keys)),
        recent_alerts=tuple(alert_from_rows(r) for r in alert_rows),
        alert_count=alert_count,
        health=tuple(source_health(connection, topic)),
        failed_deliveries=tuple(alert_from_rows(*_alert_and_delivery(r)) for r in failed),
        destinations=tuple(destination_health(connection)),
    )


def _alert_and_delivery(row: Row[Any]) -> tuple[Any, Any]:
    """A joined row's alert and delivery columns, each by name (both tables have an `id`)."""
    columns = row._mapping
    alert_part = SimpleNamespace(**{c.name: columns[c] for c in alert.columns})
    delivery_part = SimpleNamespace(**{c.name: columns[c] for c in delivery.columns})
    return alert_part, delivery_part


def source_health(connection: Connection, topic: str | None) -> list[SourceHealth]:
    """Source health rows, for one topic or all."""
    query = select(poll_state).order_by(poll_state.c.topic, poll_state.c.source)
    if topic is not None:
        query = query.where(poll_state.c.topic == topic)
    return [_health_of(r) for r in connection.execute(query)]


def _health_of(row: Row[Any]) -> SourceHealth:
    stale = stale_note(row.source, json.loads(row.meta_json), aware(row.last_success))
    return health_from_row(row, stale=stale)


class StatusCache:
    """Status cards by topic, each kept with the stamp it was read under (per connection on
    SQLite, whose stamps only compare within one connection).

    A card's triage depends on the time too (snoozes end, alerts leave the 14-day window):
    it is kept for TRIAGE_TTL of the caller's clock at most, and never past a write."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._cards: dict[tuple[str, int | None, Hashable], tuple[Hashable, TopicStatus]] = {}
        self._triage: dict[tuple[str, Hashable], tuple[Hashable, datetime, TriageSummary]] = {}
        self._lock = threading.Lock()

    def read(
        self,
        connection: Connection,
        topic: str,
        *,
        alerts: int | None = CARD_ALERTS,
        at: datetime | None = None,
    ) -> TopicStatus:
        """The card as the database holds it now (with its triage at `at`, if given):
        remembered when nothing changed, else read."""
        stamp = data_stamp(connection)
        card = self._card(connection, stamp, topic, alerts)
        if at is None:
            return card
        return replace(card, triage=self._triage_at(connection, stamp, topic, at))

    def _card(
        self,
        connection: Connection,
        stamp: tuple[Hashable, Hashable] | None,
        topic: str,
        alerts: int | None,
    ) -> TopicStatus:
        if stamp is None:
            return read_status(connection, topic, alerts=alerts)
        scope, version = stamp
        key = (topic, alerts, scope)
        with self._lock:
            kept = self._cards.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        card = read_status(connection, topic, alerts=alerts)
        with self._lock:
            if len(self._cards) >= self._size and key not in self._cards:
                self._cards.clear()  # topics x pooled connections: more is a misuse
            self._cards[key] = (version, card)
        return card

    def _triage_at(
        self,
        connection: Connection,
        stamp: tuple[Hashable, Hashable] | None,
        topic: str,
        at: datetime,
    ) -> TriageSummary:
        if stamp is None:
            return triage_summary(connection, topic, at)
        scope, version = stamp
        key = (topic, scope)
        with self._lock:
            kept = self._triage.get(key)
        if kept is not None and kept[0] == version and kept[1] <= at < kept[1] + TRIAGE_TTL:
            return kept[2]
        summary = triage_summary(connection, topic, at)
        with self._lock:
            if len(self._triage) >= self._size and key not in self._triage:
                self._triage.clear()
            self._triage[key] = (version, at, summary)
        return summary


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

        One connection; not re-read while the database is unchanged (state/status.py)."""
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


class DataGeneration:
    """A counter that moves when the database changes, as seen from any pooled connection.

    A SQLite stamp only compares within one connection, and the pool closes and opens its
    overflow connections under load, so on a SQLite file the stamp is read on one connection
    of its own, held open (it never writes, so its stamp moves only when another connection
    commits); elsewhere on a pooled one, a connection not seen before counting as a move."""

    def __init__(self, engine: Engine, size: int = 256) -> None:
        self._engine, self._size = engine, size
        self._seen: dict[Hashable, Hashable] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._held: Connection | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._stamps = create_engine(
                url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 30}
            )
            event.listen(engine, "engine_disposed", lambda _: self.close())

    def close(self) -> None:
        """Close the held stamp connection (with the store's engine)."""
        with self._lock:
            if self._held is not None:
                self._held.close()
                self._held = None

    def _stamp(self) -> tuple[Hashable, Hashable] | None:
        if not hasattr(self, "_stamps"):
            with self._engine.connect() as connection:
                return data_stamp(connection)
        with self._lock:
            if self._held is None:
                self._held = self._stamps.connect()
            try:
                return data_stamp(self._held)
            finally:
                self._held.rollback()  # no transaction left open between stamps

    def current(self) -> int | None:
        """The generation now; None: no exact stamp for this database (nothing is kept)."""
        stamp = self._stamp()
        if stamp is None:
            return None
        scope, version = stamp
        with self._lock:
            if scope not in self._seen or self._seen[scope] != version:
                if len(self._seen) >= self._size:
                    self._seen.clear()  # replaced connections: forgetting only costs a re-read
                self._seen[scope] = version
                self._count += 1
            return self._count
