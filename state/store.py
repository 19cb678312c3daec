"""Store: the only code that touches the database. A poll's snapshot and alerts commit together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from state import digest_log, retention
from state.compliance import clock_changes, clocks_may_move
from state.digest_log import DigestClaim, DigestRun
from state.engine import DEFAULT_CONNECTIONS, create_store_engine
from state.history import RegistryHistory
from state.outbox import Destinations, Outbox
from state.poll.diff import adopt_rematched, diff
from state.poll.enrich import enrich
from state.poll.lease_renewal import LeaseRenewer
from state.poll.leases import PollLeases, lease_lost, load_state, release_in, save_state
from state.poll.load import load_evidence
from state.poll.snapshot import Snapshot, load_snapshot
from state.poll.write import add_alert, add_run, health_change, record_unchanged, write_poll
from state.retention import PruneReport
from state.schema import AlertRow, DeliveryRow
from state.status import StoredState, open_engine
from state.timeline import DATE_FIELDS, annotate_moves
from state.triage import Triage
from state.types import (
    Alert,
    Change,
    ChangeKind,
    DeliveryState,
    PollOutcome,
)
from watchers.model import RegistryVersion, SourceResult, clean_text

__all__ = ["Destinations", "PollReport", "Store", "create_store_engine"]


@dataclass(frozen=True)
class PollReport:
    """What committing one poll did."""

    outcome: PollOutcome
    changes: tuple[Change, ...]


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
    ) -> None:
        super().__init__(engine)
        self.failures_before_alert = failures_before_alert
        self.retention = timedelta(days=retention_days)
        self.max_per_poll = max_per_poll
        # Keeps every lease of this process's polls in flight alive (state/poll/lease_renewal.py).
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
    ) -> Store:
        """Open the database at `url`, applying pending migrations (migrate=False: refuse them);
        `connections`: the most threads that use it at once."""
        return cls(
            open_engine(url, migrate=migrate, connections=connections),
            failures_before_alert=failures_before_alert,
            retention_days=retention_days,
            max_per_poll=max_per_poll,
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
        destinations: Destinations,
        owner: str | None = None,
    ) -> PollReport:
        """Commit a successful poll: load -> diff -> enrich -> write, in ONE transaction.

        The diff runs inside the transaction, so two processes cannot interleave a read of the
        snapshot and the write of its successor. The first poll is a silent baseline. An
        unchanged result (304, same registry stamp) reads no snapshot unless a new day may
        move a results clock. `owner`: the poll lease is given back in the same commit, and a
        poller whose lease was taken over stores nothing (outcome "skipped").
        """
        if result.unchanged:  # Core on a bare connection: no ORM session in the common case
            with self.engine.connect() as connection:
                if record_unchanged(connection, result, started=started, at=at, owner=owner):
                    connection.commit()
                    return PollReport(outcome=PollOutcome.UNCHANGED, changes=())
        with Session(self.engine) as session:
            state = load_state(session, result.topic, result.source)
            if owner is not None and not release_in(state, owner):
                return _lease_lost(result.topic, result.source)
            baseline = state.baseline_at is None
            moved = clocks_may_move(state.last_success, at)
            snapshot = (
                Snapshot()
                if result.unchanged and (baseline or not moved)
                else load_snapshot(session, result.topic, result.source)
            )
            # Most polled records are stored exactly so: they are neither decoded nor diffed.
            same = frozenset(o.key for o in result.observations if snapshot.holds(o))
            changes = [] if baseline else diff(snapshot, result, same=same)
            changes = adopt_rematched(changes, result, state.last_success)
            if not baseline:  # the same day, only a changed record can move its clock
                clocked = snapshot if moved else snapshot.only(_keys(result) - same)
                changes += clock_changes(clocked, result, last_success=state.last_success, at=at)
            changes = annotate_moves(changes, self._histories_of(changes))
            evidence = load_evidence(session, changes, result, at)
            enriched = enrich(changes, result.observations, evidence)
            outcome, alerts = write_poll(
                session,
                result,
                state,
                snapshot,
                enriched,
                started=started,
                at=at,
                destinations=destinations,
                max_per_poll=self.max_per_poll,
                same=same,
            )
            session.commit()
        return PollReport(outcome=outcome, changes=tuple(alerts))

    def _histories_of(self, changes: list[Change]) -> dict[str, list[RegistryVersion]]:
        """Registry history of the trials whose dates these changes move (often none)."""
        dated = {field for field, _ in DATE_FIELDS}
        keys = [c.key for c in changes if any(fc.field in dated for fc in c.field_changes)]
        return self.history.versions_of(keys) if keys else {}

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
        destinations: Destinations,
        owner: str | None = None,
    ) -> PollReport:
        """Record a failed poll as source health; the snapshot is left exactly as it was.

        `owner`: as for `apply_poll` (the lease is given back in the same commit).
        """
        error = clean_text(error)  # any exception's words, storable on every database
        with Session(self.engine) as session:
            state = load_state(session, topic, source)
            if owner is not None and not release_in(state, owner):
                return _lease_lost(topic, source)
            state.last_attempt = state.last_failure = at
            state.consecutive_failures += 1
            state.failing_since = state.failing_since or at
            state.last_error = error
            changes: list[Change] = []
            if state.consecutive_failures >= self.failures_before_alert and not state.down_alerted:
                state.down_alerted = True
                changes.append(health_change(ChangeKind.SOURCE_DOWN, state, at))
                add_alert(session, changes[0], at, destinations)
            save_state(session, state)
            add_run(session, topic, source, started, at, PollOutcome.FAILED, 0, error)
            session.commit()
        return PollReport(outcome=PollOutcome.FAILED, changes=tuple(changes))

    # -- outbox (leases and outcomes in state/outbox.py) ----------------------------------------

    @property
    def outbox(self) -> Outbox:
        """The alert outbox: due deliveries, leases, outcomes, re-routes, thread parents."""
        return Outbox(self.engine)

    # -- retention (rules in state/retention.py) -----------------------------------------------

    def prune(self, at: datetime) -> PruneReport:
        """Drop poll runs and long-gone event items older than the retention; never alerts."""
        with Session(self.engine) as session:
            report = retention.prune(session, at, self.retention)
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


def _keys(result: SourceResult) -> set[str]:
    return {obs.key for obs in result.observations}


def _lease_lost(topic: str, source: str) -> PollReport:
    lease_lost(topic, source)
    return PollReport(outcome=PollOutcome.SKIPPED, changes=())
