"""Soak: simulated weeks of polling against failing, changing fake sources, on a real database.

    python bench/soak.py --days 30 [--db URL] [--seed 1] [--fail-rate 0.05] [--retention-days 7]

Every poll goes through `bot.polling.pipeline.poll_once` into a real Store on an injected clock; the
outbox is drained to the console deliverer (into a counter); retention prunes every hour.
At the end every alert is compared with the truth the fakes recorded (bench/soak_world.py):
each change alerted exactly once, one "down" and one "recovered" per outage, each delivered
once. Prints polls, faults, changes, alerts, lost/duplicated, DB size per day, RSS and time.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

from bot.destinations.console import ConsoleDestination
from bot.destinations.flush import DeliveryLoop
from bot.polling.pipeline import poll_once
from state.schema import AlertRow, DeliveryRow, PollRunRow, SnapshotRow
from state.store import Routes, Store, is_event_source
from state.types import ChangeKind, DeliveryState
from watchers.model import Topic

try:
    from bench.soak_world import INTERVALS, WINDOW, Expected, Truth, make_sources
except ModuleNotFoundError:  # run as `python bench/soak.py`: bench/ itself is on sys.path
    from soak_world import INTERVALS, WINDOW, Expected, Truth, make_sources  # type: ignore[no-redef]

__all__ = ["DayStats", "SoakResult", "main", "run_soak"]

START = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=30)
TOPICS = ("ulefnersen", "tofersen", "ulefnersen-news")
_HEALTH = {ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED}


class SimClock:
    """The injected clock: simulated time, moved by the soak loop only."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class DayStats:
    """The database and the process at the end of one simulated day."""

    day: int
    db_bytes: int
    rows: dict[str, int]
    rss_kb: int
    peak_rss_kb: int
    heap_kb: int = 0  # Python objects alive (tracemalloc), with --tracemalloc only


@dataclass
class SoakResult:
    """What the soak did and whether every change was alerted and delivered exactly once."""

    polls: int = 0
    faults: int = 0
    changes: int = 0
    item_alerts: int = 0
    health_alerts: int = 0
    lost: list[Expected] = field(default_factory=list)
    duplicated: list[Expected] = field(default_factory=list)
    health_mismatches: dict[tuple[str, str], tuple[list[str], list[str]]] = field(
        default_factory=dict
    )
    deliveries_not_once: int = 0
    days: list[DayStats] = field(default_factory=list)
    pruned_runs: int = 0
    pruned_items: int = 0
    arrivals: list[datetime] = field(default_factory=list)  # feed items, as they appeared
    seconds: float = 0.0


def run_soak(
    url: str,
    *,
    days: int,
    seed: int = 1,
    fail_rate: float = 0.05,
    retention_days: int = 7,
    topics: tuple[str, ...] = TOPICS,
    threshold: int = 3,
    window: int = WINDOW,
    progress: bool = False,
) -> SoakResult:
    """Simulate `days` days of polling; return the figures and every mismatch with the truth."""
    began = time.perf_counter()
    rng = random.Random(seed)
    truth = Truth(threshold=threshold)
    sources = make_sources(rng, truth, fail_rate, window)
    store = Store.open(
        url,
        failures_before_alert=threshold,
        retention_days=retention_days,
        routes=Routes(default={"console": None}),
    )
    clock = SimClock()
    printed: list[str] = []
    console = DeliveryLoop(ConsoleDestination(printed.append), store.outbox, clock)
    result = SoakResult()
    try:
        for step in range(int(timedelta(days=days) / STEP)):
            now = clock.now = START + step * STEP
            for fake in sources:
                fake.maybe_outage(now, STEP)
                for topic in topics:
                    fake.evolve(topic, now, STEP)
                if (step * STEP) % timedelta(seconds=INTERVALS[fake.source]):
                    continue
                for topic in topics:
                    poll_once(fake, Topic(topic), store, clock)
            console.flush()
            if now.minute == 0:
                report = store.prune(now)
                result.pruned_runs += report.poll_runs
                result.pruned_items += report.snapshot_rows
            if (now + STEP - START) % timedelta(days=1) == timedelta(0):
                result.days.append(_day_stats(store, len(result.days) + 1))
                if progress:
                    print(_day_line(result.days[-1]), file=sys.stderr, flush=True)
        _compare(store, truth, len(printed), result, START, clock.now + STEP)
    finally:
        store.close()
    result.polls, result.faults, result.arrivals = truth.polls, truth.faults, truth.arrivals
    result.seconds = time.perf_counter() - began
    return result


def _compare(
    store: Store,
    truth: Truth,
    printed: int,
    result: SoakResult,
    start: datetime,
    end: datetime,
) -> None:
    alerts = store.alerts_between(start, end)
    actual: Counter[Expected] = Counter()
    health: dict[tuple[str, str], list[str]] = {}
    for alert in alerts:
        change = alert.change
        if change.kind in _HEALTH:
            health.setdefault((change.topic, change.source), []).append(change.kind.value)
            continue
        fields = tuple((fc.field, _text(fc.before), _text(fc.after)) for fc in change.field_changes)
        actual[Expected(change.topic, change.source, change.key, change.kind.value, fields)] += 1
    result.changes = sum(truth.items.values())
    result.item_alerts = sum(actual.values())
    result.health_alerts = sum(len(kinds) for kinds in health.values())
    result.lost = sorted((truth.items - actual).elements(), key=repr)
    result.duplicated = sorted((actual - truth.items).elements(), key=repr)
    for pair in sorted(set(health) | set(truth.health)):
        if health.get(pair, []) != truth.health.get(pair, []):
            result.health_mismatches[pair] = (truth.health.get(pair, []), health.get(pair, []))
    # Each alert printed once, and its one delivery row marked sent.
    sent = _sent_deliveries(store)
    result.deliveries_not_once = abs(printed - len(alerts)) + sum(
        1 for alert in alerts if sent.get(alert.id) != 1
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _sent_deliveries(store: Store) -> dict[int, int]:
    with Session(store.engine) as session:
        rows = session.exec(
            select(DeliveryRow.alert_id, func.count())
            .where(DeliveryRow.state == DeliveryState.SENT.value)
            .group_by(DeliveryRow.alert_id)
        ).all()
    return {alert_id: count for alert_id, count in rows}  # noqa: C416 (rows, not pairs)


def _day_stats(store: Store, day: int) -> DayStats:
    tables: dict[str, type[SQLModel]] = {
        "snapshot": SnapshotRow,
        "poll_run": PollRunRow,
        "alert": AlertRow,
        "delivery": DeliveryRow,
    }
    with Session(store.engine) as session:
        rows = {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in tables.items()
        }
        sources = session.exec(select(SnapshotRow.source)).all()
    rows["feed_items"] = sum(1 for source in sources if is_event_source(source))
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _proc_status_kb("VmHWM"))
    heap = tracemalloc.get_traced_memory()[0] // 1024 if tracemalloc.is_tracing() else 0
    return DayStats(day, _db_bytes(store), rows, _proc_status_kb("VmRSS"), peak, heap)


def _db_bytes(store: Store) -> int:
    url = make_url(str(store.engine.url))
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists())
    with store.engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
    return int(size or 0)


def _proc_status_kb(name: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB; 0 where /proc is absent."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    return 0


def _day_line(day: DayStats) -> str:
    rows = " ".join(f"{name}={count}" for name, count in day.rows.items())
    heap = f"  heap {day.heap_kb / 1024:.1f} MiB" if day.heap_kb else ""
    return (
        f"day {day.day:>3}: db {day.db_bytes / 1024:>8.0f} KiB  {rows}  "
        f"rss {day.rss_kb / 1024:.1f} MiB (peak {day.peak_rss_kb / 1024:.1f} MiB){heap}"
    )


def report(result: SoakResult) -> str:
    """The figures, for people."""
    first, last = result.days[0], result.days[-1]
    lines = [
        *map(_day_line, result.days),
        "",
        f"simulated days: {len(result.days)}   wall time: {result.seconds:.1f} s",
        f"polls: {result.polls}   faults injected: {result.faults} "
        f"({result.faults / max(result.polls, 1):.1%})",
        f"changes (truth): {result.changes}   item alerts: {result.item_alerts}   "
        f"health alerts: {result.health_alerts}",
        f"lost: {len(result.lost)}   duplicated: {len(result.duplicated)}   "
        f"health mismatches: {len(result.health_mismatches)}   "
        f"deliveries not exactly once: {result.deliveries_not_once}",
        f"pruned: {result.pruned_runs} poll runs, {result.pruned_items} feed items",
        f"db size: day 1 {first.db_bytes / 1024:.0f} KiB, day {last.day} "
        f"{last.db_bytes / 1024:.0f} KiB",
        f"peak RSS: day 1 {first.peak_rss_kb / 1024:.1f} MiB, day {last.day} "
        f"{last.peak_rss_kb / 1024:.1f} MiB (current {first.rss_kb / 1024:.1f} -> "
        f"{last.rss_kb / 1024:.1f} MiB)",
    ]
    for item in (result.lost + result.duplicated)[:20]:
        lines.append(f"  mismatch: {item}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the soak from the command line; exit 1 if any alert was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fail-rate", type=float, default=0.05)
    parser.add_argument("--retention-days", type=int, default=7)
    parser.add_argument("--window", type=int, default=WINDOW, help="items a feed shows")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report live Python heap (slower)"
    )
    args = parser.parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'soak.db'}"
        result = run_soak(
            url,
            days=args.days,
            seed=args.seed,
            fail_rate=args.fail_rate,
            retention_days=args.retention_days,
            window=args.window,
            progress=True,
        )
    print(report(result))
    broken = result.lost or result.duplicated or result.health_mismatches
    return 1 if broken or result.deliveries_not_once else 0


if __name__ == "__main__":
    sys.exit(main())
