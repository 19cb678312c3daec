"""Store: the only code that touches the database. A poll's snapshot and alerts commit together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, func, update
from sqlmodel import Session, col, or_, select

from state import digest_log, poll
from state.digest_log import DigestClaim, DigestRun
from state.engine import DEFAULT_CONNECTIONS, create_store_engine
from state.history import RegistryHistory
from state.outbox import Outbox
from state.poll import PollReport
from state.poll.leases import LeaseRenewer, PollLeases
from state.poll.write import Destinations, Route, Routes
from state.schema import AlertRow, DeliveryRow, PollRunRow, SnapshotRow
from state.status import StoredState, open_engine
from state.triage import Triage
from state.types import Alert, ChangeKind, DeliveryState
from watchers.model import SourceResult
from watchers.registry import find_spec
from watchers.spec import Retention

__all__ = [
    "Destinations",
    "PollReport",
    "PruneReport",
    "Route",
    "Routes",
    "Store",
    "create_store_engine",
    "is_event_source",
]


@dataclass(frozen=True)
class PruneReport:
    """How many rows one prune removed."""

    poll_runs: int = 0
    snapshot_rows: int = 0


class Store(StoredState):
    """Snapshots, the alert outbox, deliveries, source health and poll runs (the reads of
    stored state are StoredState's, state/status.py)."""

    def __init__(
        self,
        engine: Engine,
        *,
        failures_before_alert: int = 3,
        retention_days: int = 90,
        max_per_poll: int = 20,
        routes: Routes | None = None,
    ) -> None:
        super().__init__(engine)
        # Where each topic's new alerts go, fixed at start-up (bot/app.py builds them).
        self.routes = routes or Routes()
        self.failures_before_alert = failures_before_alert
        self.retention = timedelta(days=retention_days)
        self.max_per_poll = max_per_poll
        # Keeps every lease of this process's polls in flight alive (state/poll/leases.py).
        self.lease_renewer = LeaseRenewer(PollLeases(engine))

    @classmethod
    def open(
        cls,
        url: str,
        *,
        failures_before_alert: int = 3,
        retention_days: int = 90,
        max_per_poll: int = 20,
        migrate: bool = True,
        connections: int = DEFAULT_CONNECTIONS,
        routes: Routes | None = None,
    ) -> Store:
        """Open the database at `url`, applying pending migrations (migrate=False: refuse them);
        `connections`: the most threads that use it at once; `routes`: where alerts go."""
        return cls(
            open_engine(url, migrate=migrate, connections=connections),
            failures_before_alert=failures_before_alert,
            retention_days=retention_days,
            max_per_poll=max_per_poll,
            routes=routes,
        )

    def close(self) -> None:
        """Stop renewing poll leases and release pooled connections."""
        self.lease_renewer.close()
        super().close()

    # -- polls ---------------------------------------------------------------------------------

    @property
    def history(self) -> RegistryHistory:
        """Trials' registry history and its import's health (state/history.py)."""
        return RegistryHistory(self.engine)

    @property
    def triage(self) -> Triage:
        """The triage ledger: acknowledge, snooze, mute (state/triage.py)."""
        return Triage(self.engine)

    @property
    def poll_leases(self) -> PollLeases:
        """One poller per (topic, source) at a time (state/poll/leases.py)."""
        return PollLeases(self.engine)

    def apply_poll(
        self,
        result: SourceResult,
        *,
        started: datetime,
        at: datetime,
        owner: str | None = None,
    ) -> PollReport:
        """Commit a successful poll: load -> diff -> enrich -> write, in ONE transaction
        (state/poll/); its alerts go where the store's routes send them."""
        return poll.apply_poll(
            self.engine,
            result,
            started=started,
            at=at,
            destinations=self.routes.of(result.topic),
            max_per_poll=self.max_per_poll,
            owner=owner,
        )

    def release_held(self, topic: str, source: str, *, drop: bool = False) -> int:
        """Post the held alerts of (topic, source) at the next flush, or drop them (they stay
        stored and listed, never posted); how many deliveries that was."""
        with Session(self.engine) as session:
            held = (
                select(AlertRow.id)
                .where(AlertRow.topic == topic, AlertRow.source == source)
                .scalar_subquery()
            )
            rows = col(DeliveryRow.alert_id).in_(held) & (
                col(DeliveryRow.state) == DeliveryState.HELD.value
            )
            if drop:
                done = session.exec(delete(DeliveryRow).where(rows))
            else:
                pending = DeliveryState.PENDING.value
                done = session.exec(update(DeliveryRow).where(rows).values(state=pending))
            session.commit()
        return done.rowcount

    def record_failure(
        self,
        topic: str,
        source: str,
        error: str,
        *,
        started: datetime,
        at: datetime,
        owner: str | None = None,
    ) -> PollReport:
        """Record a failed poll as source health; the snapshot is left exactly as it was."""
        return poll.record_failure(
            self.engine,
            topic,
            source,
            error,
            started=started,
            at=at,
            destinations=self.routes.of(topic),
            failures_before_alert=self.failures_before_alert,
            owner=owner,
        )

    # -- outbox (leases and outcomes in state/outbox.py) ----------------------------------------

    @property
    def outbox(self) -> Outbox:
        """The alert outbox: due deliveries, leases, outcomes, re-routes, thread parents."""
        return Outbox(self.engine)

    # -- retention ------------------------------------------------------------------------------

    def prune(self, at: datetime) -> PruneReport:
        """Drop poll runs and long-gone event items older than the retention; never alerts."""
        with Session(self.engine) as session:
            report = _prune(session, at, self.retention)
            session.commit()
        return report

    # -- email digest (SQL in state/digest_log.py) -------------------------------------------

    def alerts_between(self, start: datetime, end: datetime) -> list[Alert]:
        """Alerts created in [start, end), oldest first, each with its Slack delivery state."""
        with Session(self.engine) as session:
            return digest_log.alerts_between(session, start, end)

    def digest_run(self, day: date, recipients: Iterable[str]) -> DigestRun | None:
        """The send ledger entry of `day`'s digest to this recipient list, if any."""
        with Session(self.engine) as session:
            return digest_log.digest_run(session, day, recipients)

    def claim_digest(
        self, day: date, recipients: Iterable[str], *, at: datetime, force: bool = False
    ) -> DigestClaim:
        """Claim the once-a-day send (committed before sending: at-most-once)."""
        with Session(self.engine) as session:
            return digest_log.claim_digest(session, day, recipients, at=at, force=force)

    def mark_digest_sent(
        self, day: date, recipients: Iterable[str], *, at: datetime, alerts: int, message_id: str
    ) -> None:
        """The SMTP server accepted `day`'s digest."""
        with Session(self.engine) as session:
            digest_log.mark_digest_sent(
                session, day, recipients, at=at, alerts=alerts, message_id=message_id
            )

    def mark_digest_failed(self, day: date, recipients: Iterable[str], *, error: str) -> None:
        """Sending `day`'s digest failed; it may be claimed again."""
        with Session(self.engine) as session:
            digest_log.mark_digest_failed(session, day, recipients, error=error)


def is_event_source(source: str) -> bool:
    """Whether `source` serves events (feeds, news, papers) rather than records with a state.

    Events (Retention.EVENT in the spec) are history once they drop out of the source, so
    their rows only have to outlive its window; records with a state (trials, applications)
    stay for as long as the record exists. A source no spec declares is never pruned.
    """
    spec = find_spec(source)
    return spec is not None and spec.retention is Retention.EVENT


def _prune(session: Session, at: datetime, retention: timedelta) -> PruneReport:
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
