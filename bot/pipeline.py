"""Poll one source for one topic: take its lease, fetch and parse, then diff and store at once."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from state.leases import DEFAULT_POLL_LEASE
from state.store import Destinations, Store
from state.types import PollOutcome
from watchers.base import Watcher
from watchers.model import SourceError, Topic

__all__ = ["PROCESS_OWNER", "PollSummary", "poll_once"]

log = logging.getLogger(__name__)

# Who holds a poll lease: readable in the database when someone asks which process polls.
PROCESS_OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class PollSummary:
    """One poll as the run summary and the log line show it."""

    source: str
    topic: str
    outcome: PollOutcome
    alerts: int
    duration_s: float
    error: str | None = None


def poll_once(
    watcher: Watcher,
    topic: Topic,
    store: Store,
    clock: Callable[[], datetime],
    destinations: Destinations,
    *,
    owner: str = PROCESS_OWNER,
    lease_ttl: timedelta = DEFAULT_POLL_LEASE,
    min_gap: timedelta | None = None,
) -> PollSummary:
    """Poll, then commit the result or record the failure. Never raises for a source's fault.

    A failure changes nothing in the snapshot: it is recorded as source health only, so it can
    neither cause "removed" alerts nor a flood of "new" ones when the source comes back.
    The poll is skipped when another process holds the pair's lease, or (with `min_gap`) when
    the pair was polled less than `min_gap` ago: two processes never poll it twice.
    """
    started, tick = clock(), time.perf_counter()
    name, source = topic.name, watcher.source
    if not store.poll_leases.take(
        name, source, owner=owner, at=started, ttl=lease_ttl, min_gap=min_gap
    ):
        return _summary(watcher, topic, PollOutcome.SKIPPED, 0, tick)
    try:
        return _poll(watcher, topic, store, clock, destinations, started, tick)
    finally:  # after the commit (or if anything escaped): the next poller need not wait
        store.poll_leases.release(name, source, owner=owner)


def _poll(
    watcher: Watcher,
    topic: Topic,
    store: Store,
    clock: Callable[[], datetime],
    destinations: Destinations,
    started: datetime,
    tick: float,
) -> PollSummary:
    try:
        result = watcher.poll(topic, store.poll_meta(topic.name, watcher.source))
    except SourceError as exc:
        error = str(exc)
    except Exception as exc:  # a parser bug on odd input must not stop the other watchers
        log.exception("unexpected error polling %s for %s", watcher.source, topic.name)
        error = f"internal error ({type(exc).__name__}: {exc})"
    else:
        try:
            report = store.apply_poll(
                result, started=started, at=clock(), destinations=destinations
            )
        except SQLAlchemyError as exc:  # e.g. a full disk: this poll fails, the others go on
            error = f"could not store the poll: {_database_reason(exc)}"
        else:
            return _summary(watcher, topic, report.outcome, len(report.changes), tick)
    try:
        report = store.record_failure(
            topic.name,
            watcher.source,
            error,
            started=started,
            at=clock(),
            destinations=destinations,
        )
    except SQLAlchemyError as exc:  # not even the failure fits: say so in the log and go on
        log.warning(
            "poll source=%s topic=%s: could not record its failure either (%s)",
            watcher.source,
            topic.name,
            _database_reason(exc),
        )
        return _summary(watcher, topic, PollOutcome.FAILED, 0, tick, error)
    return _summary(watcher, topic, PollOutcome.FAILED, len(report.changes), tick, error)


def _database_reason(exc: SQLAlchemyError) -> str:
    # The driver's own words ("database or disk is full"), never the statement or its values.
    return str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]


def _summary(
    watcher: Watcher,
    topic: Topic,
    outcome: PollOutcome,
    alerts: int,
    tick: float,
    error: str | None = None,
) -> PollSummary:
    summary = PollSummary(
        source=watcher.source,
        topic=topic.name,
        outcome=outcome,
        alerts=alerts,
        duration_s=time.perf_counter() - tick,
        error=error,
    )
    log.log(
        logging.WARNING if outcome is PollOutcome.FAILED else logging.INFO,
        "poll source=%s topic=%s outcome=%s alerts=%d duration=%.2fs%s",
        summary.source,
        summary.topic,
        summary.outcome.value,
        summary.alerts,
        summary.duration_s,
        f" error={error}" if error else "",
    )
    return summary
