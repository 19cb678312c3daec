"""Poll one source for one topic: take its lease, fetch and parse, then diff and store at once."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from state.poll.leases import DEFAULT_POLL_LEASE, LeaseRenewer
from state.store import Store
from state.types import PollOutcome
from watchers.base import Watcher
from watchers.model import SourceError, SourceResult, Topic
from watchers.net.responses import local_exhaustion

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
    reason: str | None = None  # why a skipped poll was skipped


@dataclass(frozen=True)
class _RanOut:
    """The poll failed because this machine ran out of something: no verdict on the source."""

    what: str


class _RanOutLog:
    """At most one warning a minute about our own exhaustion, with the polls it cost."""

    def __init__(self, every: float = 60.0, monotonic: Callable[[], float] = time.monotonic):
        self._every, self._monotonic = every, monotonic
        self._lock = threading.Lock()
        self._last: float | None = None
        self._count = 0

    def note(self, what: str, source: str) -> None:
        with self._lock:
            self._count += 1
            now = self._monotonic()
            if self._last is not None and now - self._last < self._every:
                return
            log.warning(
                "%d poll(s) skipped since the last such warning: this machine ran out of "
                "resources (last: %s, polling %s); not counted against any source",
                self._count,
                what,
                source,
            )
            self._last, self._count = now, 0


RAN_OUT_LOG = _RanOutLog()


def poll_once(
    watcher: Watcher,
    topic: Topic,
    store: Store,
    clock: Callable[[], datetime],
    *,
    owner: str = PROCESS_OWNER,
    lease_ttl: timedelta = DEFAULT_POLL_LEASE,
    min_gap: timedelta | None = None,
    renewer: LeaseRenewer | None = None,
) -> PollSummary:
    """Poll, then commit the result or record the failure. Never raises for a source's fault.

    A failure changes nothing in the snapshot: it is recorded as source health only, so it can
    neither cause "removed" alerts nor a flood of "new" ones when the source comes back.
    The poll is skipped when another process holds the pair's lease, or (with `min_gap`) when
    the pair was polled less than `min_gap` ago: two processes never poll it twice. The lease
    is renewed while the poll runs, by the store's one renewer (`renewer`: another; tests).
    Alerts go where the store's routes (given at start-up) send them.
    """
    started, tick = clock(), time.perf_counter()
    name, source = topic.name, watcher.source
    # The lease and the poll meta come in one statement: one commit before the fetch.
    meta = store.poll_leases.take_with_meta(
        name, source, owner=owner, at=started, ttl=lease_ttl, min_gap=min_gap
    )
    if meta is None:
        why = store.poll_leases.why_refused(name, source, at=started, min_gap=min_gap)
        return _summary(watcher, topic, PollOutcome.SKIPPED, 0, tick, reason=why)
    renewing = (renewer or store.lease_renewer).holding(
        name, source, owner=owner, ttl=lease_ttl, clock=clock
    )
    released = False
    try:
        with renewing:  # renewed while the source is asked; the commit below is short
            fetched = _fetch(watcher, topic, meta)
        if isinstance(fetched, _RanOut):  # the source's health stays as it was
            RAN_OUT_LOG.note(fetched.what, source)
            why = f"this machine ran out of resources ({fetched.what}); the source was not judged"
            return _summary(watcher, topic, PollOutcome.SKIPPED, 0, tick, reason=why)
        # One commit stores the poll (or its failure) and gives the lease back.
        (outcome, alerts, error), released = _store(
            watcher, topic, store, clock, fetched, owner, started
        )
        return _summary(watcher, topic, outcome, alerts, tick, error)
    finally:  # a commit that failed (or anything that escaped): the next poller need not wait
        if not released:
            _release(store, name, source, owner)


def _fetch(watcher: Watcher, topic: Topic, meta: Mapping[str, str]) -> SourceResult | str | _RanOut:
    """The watcher's result, why the poll failed, or what of ours ran out (fds, memory)."""
    try:
        return watcher.poll(topic, meta)
    except Exception as exc:
        if (what := local_exhaustion(exc)) is not None:
            return _RanOut(what)
        if isinstance(exc, SourceError):
            return str(exc)
        # A parser bug on odd input must not stop the other watchers.
        log.exception("unexpected error polling %s for %s", watcher.source, topic.name)
        return f"internal error ({type(exc).__name__}: {exc})"


def _store(
    watcher: Watcher,
    topic: Topic,
    store: Store,
    clock: Callable[[], datetime],
    fetched: SourceResult | str,
    owner: str,
    started: datetime,
) -> tuple[tuple[PollOutcome, int, str | None], bool]:
    """Commit the poll, else its failure; (outcome, alerts, error) and whether that commit
    gave the lease back."""
    if isinstance(fetched, SourceResult):
        try:
            report = store.apply_poll(fetched, started=started, at=clock(), owner=owner)
        except SQLAlchemyError as exc:  # e.g. a full disk: this poll fails, the others go on
            error = f"could not store the poll: {_database_reason(exc)}"
        else:
            return (report.outcome, len(report.changes), None), True
    else:
        error = fetched
    try:
        report = store.record_failure(
            topic.name,
            watcher.source,
            error,
            started=started,
            at=clock(),
            owner=owner,
        )
    except SQLAlchemyError as exc:  # not even the failure fits: say so in the log and go on
        log.warning(
            "poll source=%s topic=%s: could not record its failure either (%s)",
            watcher.source,
            topic.name,
            _database_reason(exc),
        )
        return (PollOutcome.FAILED, 0, error), False
    return (report.outcome, len(report.changes), error), True


def _release(store: Store, topic: str, source: str, owner: str) -> None:
    try:
        store.poll_leases.release(topic, source, owner=owner)
    except SQLAlchemyError as exc:  # it runs out by itself: the pair waits at most its ttl
        log.warning(
            "poll source=%s topic=%s: lease not released (%s)", source, topic, _database_reason(exc)
        )


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
    *,
    reason: str | None = None,
) -> PollSummary:
    summary = PollSummary(
        source=watcher.source,
        topic=topic.name,
        outcome=outcome,
        alerts=alerts,
        duration_s=time.perf_counter() - tick,
        error=error,
        reason=reason,
    )
    log.log(
        logging.WARNING if outcome is PollOutcome.FAILED else logging.INFO,
        "poll source=%s topic=%s outcome=%s alerts=%d duration=%.2fs%s%s",
        summary.source,
        summary.topic,
        summary.outcome.value,
        summary.alerts,
        summary.duration_s,
        f" error={error}" if error else "",
        f" reason={reason}" if reason else "",
    )
    return summary
