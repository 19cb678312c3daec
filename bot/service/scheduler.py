"""APScheduler wiring only: one interval job per source, the outbox flush, the daily digest.

A BackgroundScheduler rather than a BlockingScheduler: the main thread must stay free to own
the signals and stop the scheduler, the HTTP server and Socket Mode against one deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.sources import source_intervals

__all__ = [
    "FALLBACK_INTERVAL",
    "FIRST_POLL_DELAY",
    "FIRST_POLL_STAGGER",
    "FLUSH_INTERVAL",
    "HOUSEKEEPING_INTERVAL",
    "build_scheduler",
    "jitter_for",
]

# A source without a configured or default interval (e.g. a new feed) is polled twice an hour.
FALLBACK_INTERVAL = 1800.0
# First polls soon after start, one source at a time rather than all in the same second.
FIRST_POLL_DELAY = 5.0
FIRST_POLL_STAGGER = 15.0
FLUSH_INTERVAL = 60.0
# Pruning and digest retries need no hurry; twice an hour keeps both timely.
HOUSEKEEPING_INTERVAL = 1800.0
# Jitter spreads polls of many processes (and of many sources) over time; capped at 5 minutes.
_JITTER_SHARE, _JITTER_CAP = 0.1, 300.0
# Never two runs of one job at once; runs missed while busy or asleep collapse into one.
_ONCE = {"max_instances": 1, "coalesce": True}


def jitter_for(interval: float) -> int:
    """Seconds of random jitter for a poll every `interval` seconds: 10%, at most 5 minutes."""
    return int(min(interval * _JITTER_SHARE, _JITTER_CAP))


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
        # A worker per job, so a slow source never delays the outbox flush or another source.
        executors={"default": ThreadPoolExecutor(max_workers=len(sources) + 2)},
    )
    for index, source in enumerate(sources):
        interval = intervals.get(source, FALLBACK_INTERVAL)
        soon = now + timedelta(seconds=FIRST_POLL_DELAY + index * FIRST_POLL_STAGGER)
        first = max(soon, (next_due or {}).get(source, soon))
        scheduler.add_job(
            poll_job,
            IntervalTrigger(seconds=interval, start_date=first, jitter=jitter_for(interval)),
            args=[source],
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
