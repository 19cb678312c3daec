"""Poll one source for one topic: fetch and parse, then diff and store in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from state.store import Destinations, Store
from state.types import PollOutcome
from watchers.base import Watcher
from watchers.model import SourceError, Topic

__all__ = ["PollSummary", "poll_once"]

log = logging.getLogger(__name__)


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
) -> PollSummary:
    """Poll, then commit the result or record the failure. Never raises for a source's fault.

    A failure changes nothing in the snapshot: it is recorded as source health only, so it can
    neither cause "removed" alerts nor a flood of "new" ones when the source comes back.
    """
    started, tick = clock(), time.perf_counter()
    try:
        result = watcher.poll(topic, store.poll_meta(topic.name, watcher.source))
    except SourceError as exc:
        error = str(exc)
    except Exception as exc:  # a parser bug on odd input must not stop the other watchers
        log.exception("unexpected error polling %s for %s", watcher.source, topic.name)
        error = f"internal error ({type(exc).__name__}: {exc})"
    else:
        report = store.apply_poll(result, started=started, at=clock(), destinations=destinations)
        return _summary(watcher, topic, report.outcome, len(report.changes), tick)
    report = store.record_failure(
        topic.name,
        watcher.source,
        error,
        started=started,
        at=clock(),
        destinations=destinations,
    )
    return _summary(watcher, topic, PollOutcome.FAILED, len(report.changes), tick, error)


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
    log.info(
        "poll source=%s topic=%s outcome=%s alerts=%d duration=%.2fs%s",
        summary.source,
        summary.topic,
        summary.outcome.value,
        summary.alerts,
        summary.duration_s,
        f" error={error}" if error else "",
    )
    return summary
