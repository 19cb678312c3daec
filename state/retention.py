"""Retention: prune old poll runs and long-gone event items; alerts and deliveries are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, delete, or_, select

from state.schema import AlertRow, PollRunRow, SnapshotRow
from state.types import ChangeKind
from watchers.registry import find_spec
from watchers.spec import Retention

__all__ = ["PruneReport", "is_event_source", "prune"]


@dataclass(frozen=True)
class PruneReport:
    """How many rows one prune removed."""

    poll_runs: int = 0
    snapshot_rows: int = 0


def is_event_source(source: str) -> bool:
    """Whether `source` serves events (feeds, news, papers) rather than records with a state.

    Events (Retention.EVENT in the spec) are history once they drop out of the source, so
    their rows only have to outlive its window; records with a state (trials, applications)
    stay for as long as the record exists. A source no spec declares is never pruned.
    """
    spec = find_spec(source)
    return spec is not None and spec.retention is Retention.EVENT


def prune(session: Session, at: datetime, retention: timedelta) -> PruneReport:
    """Delete poll runs started, and event items last seen or removed, before `at - retention`.

    An event item is pruned only if a later successful poll of its (topic, source) no longer
    carried it: the items of the latest poll are kept however old, so a feed that was down (or
    answered "not modified") for longer than the retention does not flood "new" on its return.
    And only if it was alerted, so that a feed serving it again cannot alert it twice.
    The caller commits.
    """
    cutoff = at - retention
    runs = session.exec(delete(PollRunRow).where(col(PollRunRow.started_at) < cutoff))
    pruned = 0
    # Forget an item only while the alert log remembers it: a "new" alert with its URL is what
    # makes a re-served item a repeat (state/poll/enrich.py folds it). Items never alerted are kept:
    # the first poll's (a silent baseline) and stories folded into another outlet's alert; few.
    alerted = (
        select(AlertRow.id)
        .where(
            col(SnapshotRow.url) != "",
            AlertRow.url == SnapshotRow.url,
            AlertRow.kind == ChangeKind.NEW.value,
        )
        .exists()
    )
    candidates = session.exec(
        select(SnapshotRow.topic, SnapshotRow.source)
        .where(col(SnapshotRow.last_seen) < cutoff)
        .distinct()
    ).all()
    for topic, source in candidates:
        if not is_event_source(source):
            continue
        newest = session.exec(
            select(func.max(SnapshotRow.last_seen)).where(
                SnapshotRow.topic == topic, SnapshotRow.source == source
            )
        ).one()
        result = session.exec(
            delete(SnapshotRow).where(
                col(SnapshotRow.topic) == topic,
                col(SnapshotRow.source) == source,
                or_(
                    col(SnapshotRow.removed_at) < cutoff,
                    (col(SnapshotRow.last_seen) < cutoff) & (col(SnapshotRow.last_seen) < newest),
                ),
                alerted,
            )
        )
        pruned += result.rowcount
    return PruneReport(poll_runs=runs.rowcount, snapshot_rows=pruned)
