"""Poll leases: one process at a time polls a (topic, source), and not again moments later.

The lease lives in the pair's `poll_state` row. Taking it is one conditional UPDATE whose
RETURNING says who won and hands the winner the pair's poll meta in the same statement; the
very first poll of a pair INSERTs the row, and the primary key settles a race between two
first polls. A lease runs out by itself, so a crashed poller blocks nobody for longer than its
time to live. The poll's own commit gives the lease back (Store.apply_poll with `owner`).

Every poll also reads its pair's row and writes it back once (load_state / save_state), with
Core statements built once: through the ORM that was a `session.get` and a unit-of-work flush
per poll, more CPU than the statements themselves. The row is a detached PollStateRow.

While a poll asks its source, its lease is renewed by the store's one LeaseRenewer: one daemon
thread renews every registered lease in one statement per period (a third of the shortest time
to live), so a cycle of 500 polls starts one thread, not 500, and makes no renewal statement
at all when every poll ends within the period.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    Insert,
    Select,
    Update,
    bindparam,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from state.codec import aware
from state.schema import PollStateRow, poll_state

__all__ = [
    "DEFAULT_POLL_LEASE",
    "LeaseRenewer",
    "PollLeases",
    "lease_lost",
    "load_state",
    "release_in",
    "save_state",
]


log = logging.getLogger(__name__)

# Longer than any one poll (a few requests, each with its timeout and retries).
DEFAULT_POLL_LEASE = timedelta(minutes=15)


class PollLeases:
    """The poll leases of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take_with_meta(
        self,
        topic: str,
        source: str,
        *,
        owner: str,
        at: datetime,
        ttl: timedelta = DEFAULT_POLL_LEASE,
        min_gap: timedelta | None = None,
    ) -> dict[str, str] | None:
        """Take the lease on (topic, source) for `owner`, reading in the same transaction what the
        last successful poll asked to keep (its validators, the registry's stamp); None if held.

        `min_gap`: also refuse when the pair was polled less than this long ago (by anyone),
        so two schedulers on one database poll each source once per interval, not once each.
        """
        return _take(self.engine, topic, source, owner, at, ttl, min_gap)

    def why_refused(
        self, topic: str, source: str, *, at: datetime, min_gap: timedelta | None = None
    ) -> str:
        """Why `take` refused the pair at `at`, in words for the log (read after the refusal)."""
        table = poll_state
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.lease_owner, table.c.lease_until, table.c.last_attempt).where(
                    table.c.topic == topic, table.c.source == source
                )
            ).first()
        if row is None:
            return "another poller is taking its first poll"
        owner, until, last = row.lease_owner, aware(row.lease_until), aware(row.last_attempt)
        if owner is not None and until is not None and until >= at:
            return f"lease held by {owner} until {until:%H:%M:%S} UTC"
        if min_gap is not None and last is not None and last > at - min_gap:
            ago = (at - last).total_seconds() / 60
            return (
                f"polled successfully {ago:.0f} min ago, less than the "
                f"{min_gap.total_seconds() / 60:.0f} min between two polls of a pair"
            )
        return "another poller took it a moment ago"

    def renew(self, topic: str, source: str, *, owner: str, at: datetime, ttl: timedelta) -> bool:
        """Extend `owner`'s lease to `at + ttl`; False if it is no longer theirs."""
        return bool(self.renew_many([(topic, source)], owner=owner, at=at, ttl=ttl))

    def renew_many(
        self,
        pairs: Collection[tuple[str, str]],
        *,
        owner: str,
        at: datetime,
        ttl: timedelta,
    ) -> set[tuple[str, str]]:
        """Extend `owner`'s leases on `pairs` to `at + ttl` in one statement; the pairs that
        were still `owner`'s (the others ran out and were taken over)."""
        if not pairs:
            return set()
        table = poll_state
        with self.engine.connect() as connection:
            kept = connection.execute(
                update(table)
                .where(
                    table.c.lease_owner == owner,
                    tuple_(table.c.topic, table.c.source).in_(list(pairs)),
                )
                .values(lease_until=at + ttl)
                .returning(table.c.topic, table.c.source)
            ).all()
            connection.commit()
        return {(topic, source) for topic, source in kept}

    def release(self, topic: str, source: str, *, owner: str) -> None:
        """Give the lease back (only if `owner` still holds it)."""
        _release(self.engine, topic, source, owner)


@dataclass(frozen=True)
class _Held:
    owner: str
    ttl: timedelta
    clock: Callable[[], datetime]


class LeaseRenewer:
    """Renews the registered leases every third of their time to live until they are let go.

    `wait(seconds)` pauses the renewer and returns True once it should stop (the store is
    closing); tests inject one that drives time instead.
    """

    def __init__(self, leases: PollLeases, *, wait: Callable[[float], bool] | None = None):
        self._leases = leases
        self._closed = threading.Event()
        self._wait = wait or self._closed.wait
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], _Held] = {}
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def holding(
        self,
        topic: str,
        source: str,
        *,
        owner: str,
        ttl: timedelta = DEFAULT_POLL_LEASE,
        clock: Callable[[], datetime],
    ) -> Iterator[None]:
        """Keep `owner`'s lease on (topic, source) alive while the block runs."""
        pair, held = (topic, source), _Held(owner, ttl, clock)
        with self._lock:
            self._held[pair] = held
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                if self._held.get(pair) is held:
                    del self._held[pair]

    def close(self) -> None:
        """Stop renewing (the store is closing; polls still running lose nothing but time)."""
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _period(self) -> float:
        with self._lock:
            ttls = [held.ttl for held in self._held.values()] or [DEFAULT_POLL_LEASE]
        return min(ttls).total_seconds() / 3

    def _run(self) -> None:
        try:
            while not self._wait(self._period()) and not self._closed.is_set():
                self._renew_all()
        finally:
            with self._lock:
                self._thread = None

    def _renew_all(self) -> None:
        with self._lock:
            groups: dict[tuple[str, timedelta], dict[tuple[str, str], _Held]] = {}
            for pair, held in self._held.items():
                groups.setdefault((held.owner, held.ttl), {})[pair] = held
        for (owner, ttl), pairs in groups.items():
            at = next(iter(pairs.values())).clock()
            try:
                kept = self._leases.renew_many(pairs, owner=owner, at=at, ttl=ttl)
            except Exception as exc:  # a database blip: the leases still have time; try again
                log.warning("%d poll lease(s) not renewed (%s)", len(pairs), exc)
                continue
            for topic, source in sorted(set(pairs) - kept):
                log.warning("poll source=%s topic=%s: lease lost while polling", source, topic)
                with self._lock:  # taken over: renewing it again could only fail
                    if self._held.get((topic, source)) is pairs[(topic, source)]:
                        del self._held[(topic, source)]


def _take(
    engine: Engine,
    topic: str,
    source: str,
    owner: str,
    at: datetime,
    ttl: timedelta,
    min_gap: timedelta | None,
) -> dict[str, str] | None:
    take, held = _take_statements(min_gap is not None)
    pair = {"k_topic": topic, "k_source": source}
    taking = pair | {"k_at": at, "k_owner": owner, "k_until": at + ttl}
    if min_gap is not None:
        taking["k_since"] = at - min_gap
    # Core, not the ORM: this runs before every poll, and nothing here needs an entity.
    with engine.connect() as connection:
        taken = connection.execute(take, taking).first()
        if taken is not None:
            connection.commit()
            return dict(json.loads(taken[0]))
        if connection.execute(held, pair).first() is not None:
            return None  # held by another poller, or polled within min_gap
    # The first poll of this pair: whoever inserts the row first holds the lease.
    row = PollStateRow(topic=topic, source=source, lease_owner=owner, lease_until=at + ttl)
    with engine.connect() as connection:
        try:
            connection.execute(insert(poll_state), row.model_dump())
            connection.commit()
        except IntegrityError:
            connection.rollback()
            return None
    return {}


@functools.cache
def _take_statements(gap: bool) -> tuple[Update, Select[tuple[str]]]:
    """The lease-taking UPDATE (with `gap`: also refused within min_gap) and the "is the row
    there" probe; built once, so a poll pays neither for building nor for the cache key."""
    table = poll_state
    stamp = table.c.lease_until.type
    conditions = [
        table.c.topic == bindparam("k_topic"),
        table.c.source == bindparam("k_source"),
        or_(table.c.lease_owner.is_(None), table.c.lease_until < bindparam("k_at", type_=stamp)),
    ]
    if gap:
        # Only a success counts toward the gap: a pair whose last poll failed (or that never
        # succeeded) is retried at once, not after half an interval of staying failed.
        last = table.c.last_attempt
        conditions.append(
            or_(
                last.is_(None),
                last <= bindparam("k_since", type_=stamp),
                table.c.last_success.is_(None),
                table.c.consecutive_failures > 0,
            )
        )
    take = (
        update(table)
        .where(*conditions)
        .values(lease_owner=bindparam("k_owner"), lease_until=bindparam("k_until", type_=stamp))
        .returning(table.c.meta_json)
    )
    held = select(table.c.topic).where(
        table.c.topic == bindparam("k_topic"), table.c.source == bindparam("k_source")
    )
    return take, held


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


def release_in(state: PollStateRow, owner: str) -> bool:
    """Give `owner`'s lease back with the caller's commit; False if it is no longer theirs
    (it ran out and another poller took it over: that poller's result is the one to store)."""
    if state.lease_owner != owner:
        return False
    state.lease_owner = state.lease_until = None
    return True


def lease_lost(topic: str, source: str) -> None:
    """Say why a poll's result was dropped: its lease had run out and was taken over."""
    log.warning(
        "poll source=%s topic=%s: its lease ran out and another poller took it over; "
        "this poll's result is dropped (that poller's counts)",
        source,
        topic,
    )


# The pair's poll_state row, loaded and saved by the poll.


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
