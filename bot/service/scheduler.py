"""APScheduler wiring only: one interval job per source, the outbox flush, the daily digest.

A BackgroundScheduler rather than a BlockingScheduler: the main thread must stay free to own
the signals and stop the scheduler, the HTTP server and Socket Mode against one deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.polling.sources import source_intervals
from state.types import SourceHealth

__all__ = [
    "FALLBACK_INTERVAL",
    "FIRST_POLL_DELAY",
    "FIRST_POLL_STAGGER",
    "FLUSH_INTERVAL",
    "HOUSEKEEPING_INTERVAL",
    "build_scheduler",
    "due_after_restart",
    "jitter_for",
]

log = logging.getLogger(__name__)

# A source without a configured or default interval (e.g. a new feed) is polled twice an hour.
FALLBACK_INTERVAL = 1800.0
# First polls soon after start, one source at a time rather than all in the same second, and
# all within the first minute (a source that failed in `check` is retried promptly).
FIRST_POLL_DELAY = 5.0
FIRST_POLL_STAGGER = 15.0
_FIRST_POLL_WINDOW = 50.0
FLUSH_INTERVAL = 60.0
# Pruning and digest retries need no hurry; twice an hour keeps both timely.
HOUSEKEEPING_INTERVAL = 1800.0
# Jitter spreads polls of many processes (and of many sources) over time; capped at 5 minutes.
_JITTER_SHARE, _JITTER_CAP = 0.1, 300.0
# Never two runs of one job at once; runs missed while busy or asleep collapse into one.
_ONCE = {"max_instances": 1, "coalesce": True}
_POLLS = "polls"


def jitter_for(interval: float) -> int:
    """Seconds of random jitter for a poll every `interval` seconds: 10%, at most 5 minutes."""
    return int(min(interval * _JITTER_SHARE, _JITTER_CAP))


def due_after_restart(
    health: Iterable[SourceHealth],
    sources: Sequence[str],
    topics: Sequence[str],
    intervals: Mapping[str, float],
    now: datetime,
) -> dict[str, datetime]:
    """When each source is due after a (re)start: its oldest last attempt + its interval.

    A source missing from the answer is due at once: never polled for some topic, never
    succeeded, or its last poll failed (e.g. in a `check` run offline): waiting a full interval
    would leave it silently unchecked.
    """
    by_pair = {(h.source, h.topic): h for h in health}
    due: dict[str, datetime] = {}
    for source in sources:
        rows = [by_pair.get((source, topic)) for topic in topics]
        if any(r is None or r.last_success is None or r.consecutive_failures for r in rows):
            continue
        attempts = [r.last_attempt for r in rows if r is not None and r.last_attempt]
        if not attempts or min(attempts) > now:
            continue
        due[source] = min(attempts) + timedelta(seconds=intervals.get(source, FALLBACK_INTERVAL))
    return due


def _first_reason(due: datetime | None) -> str:
    return "overdue" if due else "not yet polled successfully, or its last poll failed"


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def build_scheduler(
    settings: Settings,
    sources: Sequence[str],
    *,
    poll_job: Callable[[str], object],
    flush_job: Callable[[], object],
    now: datetime,
    digest_job: Callable[[], object] | None = None,
    housekeeping_job: Callable[[], object] | None = None,
    next_due: Mapping[str, datetime] | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) with every job; `next_due` is when each source is due again."""
    intervals = source_intervals(settings)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # Polls share a pool of `[http] max_parallel` workers (a slow or paced source holds one
        # of them); the flush, pruning and digest have their own, so polls never delay them.
        executors={
            "default": ThreadPoolExecutor(max_workers=3),
            _POLLS: ThreadPoolExecutor(
                max_workers=max(1, min(settings.http.max_parallel, len(sources)))
            ),
        },
    )
    stagger = min(FIRST_POLL_STAGGER, _FIRST_POLL_WINDOW / max(1, len(sources)))
    for index, source in enumerate(sources):
        interval = intervals.get(source, FALLBACK_INTERVAL)
        soon = now + timedelta(seconds=FIRST_POLL_DELAY + index * stagger)
        due = (next_due or {}).get(source)
        first = max(soon, due or soon)
        log.info(
            "poll %s next due at %s (%s), then every %s",
            source,
            first.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "interval since its last poll" if due and due > soon else _first_reason(due),
            _duration(interval),
        )
        scheduler.add_job(
            poll_job,
            IntervalTrigger(seconds=interval, start_date=first, jitter=jitter_for(interval)),
            args=[source],
            executor=_POLLS,
            id=f"poll:{source}",
            name=f"poll {source}",
            next_run_time=first,
            **_ONCE,
            # Late (the machine slept, the pool was busy) but within an interval: still poll.
            misfire_grace_time=int(interval),
        )
    scheduler.add_job(
        flush_job,
        IntervalTrigger(seconds=FLUSH_INTERVAL, start_date=now),
        id="flush",
        name="flush outbox",
        next_run_time=now + timedelta(seconds=1),
        **_ONCE,
        misfire_grace_time=int(FLUSH_INTERVAL),
    )
    if housekeeping_job is not None:
        scheduler.add_job(
            housekeeping_job,
            IntervalTrigger(seconds=HOUSEKEEPING_INTERVAL, start_date=now),
            id="housekeeping",
            name="prune old rows, retry a failed digest",
            **_ONCE,
            misfire_grace_time=int(HOUSEKEEPING_INTERVAL),
        )
    if digest_job is not None and settings.digest is not None:
        digest = settings.digest
        scheduler.add_job(
            digest_job,
            CronTrigger(
                hour=digest.time.hour,
                minute=digest.time.minute,
                timezone=ZoneInfo(digest.timezone),
            ),
            id="digest",
            name="daily digest",
            **_ONCE,
            # Once a day matters more than on the minute: a late digest still goes out.
            misfire_grace_time=6 * 3600,
        )
    return scheduler
