"""Store: the only code that touches the database. A poll's snapshot and alerts commit together."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col, create_engine, select

from state.codec import (
    alert_from_rows,
    dump_field_changes,
    dump_fields,
    dump_times,
    health_from_row,
    load_times,
    observation_from_row,
)
from state.diff import changed_fields, diff
from state.fields import source_label
from state.tables import AlertRow, DeliveryRow, PollRunRow, PollStateRow, SnapshotRow
from state.types import (
    Alert,
    Change,
    ChangeKind,
    DeliveryState,
    PollOutcome,
    Severity,
    SourceHealth,
    StoredObservation,
    TopicStatus,
)
from watchers.model import Observation, SourceResult

__all__ = ["Destinations", "PollReport", "Store", "create_store_engine"]

# Where each new alert goes: destination name -> channel (None where the destination has none).
Destinations = Mapping[str, str | None]


@dataclass(frozen=True)
class PollReport:
    """What committing one poll did."""

    outcome: PollOutcome
    changes: tuple[Change, ...]


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its directory created, WAL mode and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Store:
    """Snapshots, the alert outbox, deliveries, source health and poll runs."""

    def __init__(self, engine: Engine, *, failures_before_alert: int = 3) -> None:
        self.engine = engine
        self.failures_before_alert = failures_before_alert

    @classmethod
    def open(cls, url: str, *, failures_before_alert: int = 3) -> Store:
        """Open (and create the tables of) the database at `url`."""
        store = cls(create_store_engine(url), failures_before_alert=failures_before_alert)
        SQLModel.metadata.create_all(store.engine)
        return store

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    # -- polls ---------------------------------------------------------------------------------

    def snapshot(self, topic: str, source: str) -> dict[str, StoredObservation]:
        """The stored observations of one (topic, source), by key."""
        with Session(self.engine) as session:
            return self._snapshot(session, topic, source)

    def poll_meta(self, topic: str, source: str) -> dict[str, str]:
        """What the last successful poll of (topic, source) asked to keep for the next one."""
        with Session(self.engine) as session:
            row = session.get(PollStateRow, (topic, source))
            return dict(json.loads(row.meta_json)) if row else {}

    def apply_poll(
        self, result: SourceResult, *, started: datetime, at: datetime, destinations: Destinations
    ) -> PollReport:
        """Diff a successful poll against the snapshot and store both in ONE transaction."""
        topic, source = result.topic, result.source
        with Session(self.engine) as session:
            state = session.get(PollStateRow, (topic, source)) or PollStateRow(
                topic=topic, source=source
            )
            previous = self._snapshot(session, topic, source)
            baseline = state.baseline_at is None
            changes = [] if baseline else diff(previous, result)
            if not result.unchanged:
                self._write_snapshot(session, result, previous, at)
            if state.down_alerted:
                changes.append(_health_change(ChangeKind.SOURCE_RECOVERED, state, at))
            for change in changes:
                self._add_alert(session, change, at, destinations)
            state.baseline_at = state.baseline_at or at
            state.last_attempt = state.last_success = at
            state.consecutive_failures = 0
            state.failing_since = None
            state.down_alerted = False
            state.last_error = None
            state.meta_json = json.dumps(dict(result.meta) or json.loads(state.meta_json))
            session.add(state)
            outcome = (
                PollOutcome.BASELINE
                if baseline
                else PollOutcome.UNCHANGED
                if result.unchanged
                else PollOutcome.OK
            )
            self._add_run(session, topic, source, started, at, outcome, len(changes), None)
            session.commit()
        return PollReport(outcome=outcome, changes=tuple(changes))

    def record_failure(
        self,
        topic: str,
        source: str,
        error: str,
        *,
        started: datetime,
        at: datetime,
        destinations: Destinations,
    ) -> PollReport:
        """Record a failed poll as source health; the snapshot is left exactly as it was."""
        with Session(self.engine) as session:
            state = session.get(PollStateRow, (topic, source)) or PollStateRow(
                topic=topic, source=source
            )
            state.last_attempt = state.last_failure = at
            state.consecutive_failures += 1
            state.failing_since = state.failing_since or at
            state.last_error = error
            changes: list[Change] = []
            if state.consecutive_failures >= self.failures_before_alert and not state.down_alerted:
                state.down_alerted = True
                changes.append(_health_change(ChangeKind.SOURCE_DOWN, state, at))
                self._add_alert(session, changes[0], at, destinations)
            session.add(state)
            self._add_run(session, topic, source, started, at, PollOutcome.FAILED, 0, error)
            session.commit()
        return PollReport(outcome=PollOutcome.FAILED, changes=tuple(changes))

    # -- outbox --------------------------------------------------------------------------------

    def pending(self, destination: str, *, limit: int = 200) -> list[Alert]:
        """Alerts not yet delivered to `destination`, oldest first."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(AlertRow, DeliveryRow)
                .join(DeliveryRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(DeliveryRow.destination == destination)
                .where(DeliveryRow.state == DeliveryState.PENDING.value)
                .order_by(col(AlertRow.id))
                .limit(limit)
            ).all()
            return [alert_from_rows(a, d) for a, d in rows]

    def mark_sent(self, delivery_id: int, *, at: datetime, ref: str | None = None) -> None:
        """A delivery succeeded: never send it again."""
        with Session(self.engine) as session:
            row = session.get_one(DeliveryRow, delivery_id)
            row.state = DeliveryState.SENT.value
            row.attempts += 1
            row.delivered_at = row.last_attempt_at = at
            row.ref = ref
            row.last_error = None
            session.add(row)
            session.commit()

    def mark_attempt_failed(
        self, delivery_id: int, *, at: datetime, error: str, permanent: bool = False
    ) -> None:
        """A delivery attempt failed: stays pending for the next run unless `permanent`."""
        with Session(self.engine) as session:
            row = session.get_one(DeliveryRow, delivery_id)
            row.attempts += 1
            row.last_attempt_at = at
            row.last_error = error
            if permanent:
                row.state = DeliveryState.FAILED.value
            session.add(row)
            session.commit()

    # -- reading -------------------------------------------------------------------------------

    def status(self, topic: str, *, alerts: int = 5) -> TopicStatus:
        """Trials, latest alerts, failed deliveries and source health of a topic."""
        with Session(self.engine) as session:
            trial_rows = session.exec(
                select(SnapshotRow)
                .where(SnapshotRow.topic == topic, SnapshotRow.source == "clinicaltrials")
                .order_by(col(SnapshotRow.key))
            ).all()
            alert_rows = session.exec(
                select(AlertRow)
                .where(AlertRow.topic == topic)
                .order_by(col(AlertRow.id).desc())
                .limit(alerts)
            ).all()
            failed = session.exec(
                select(AlertRow, DeliveryRow)
                .join(DeliveryRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(AlertRow.topic == topic, DeliveryRow.state == DeliveryState.FAILED.value)
                .order_by(col(AlertRow.id).desc())
                .limit(alerts)
            ).all()
            return TopicStatus(
                topic=topic,
                trials=tuple(observation_from_row(r) for r in trial_rows),
                recent_alerts=tuple(alert_from_rows(r) for r in alert_rows),
                health=tuple(self._health(session, topic)),
                failed_deliveries=tuple(alert_from_rows(a, d) for a, d in failed),
            )

    def health(self, topic: str | None = None) -> list[SourceHealth]:
        """Source health rows, for one topic or all."""
        with Session(self.engine) as session:
            return self._health(session, topic)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _health(session: Session, topic: str | None) -> list[SourceHealth]:
        query = select(PollStateRow).order_by(col(PollStateRow.topic), col(PollStateRow.source))
        if topic is not None:
            query = query.where(PollStateRow.topic == topic)
        return [health_from_row(r) for r in session.exec(query).all()]

    @staticmethod
    def _snapshot(session: Session, topic: str, source: str) -> dict[str, StoredObservation]:
        rows = session.exec(
            select(SnapshotRow).where(SnapshotRow.topic == topic, SnapshotRow.source == source)
        ).all()
        return {row.key: observation_from_row(row) for row in rows}

    @staticmethod
    def _write_snapshot(
        session: Session,
        result: SourceResult,
        previous: Mapping[str, StoredObservation],
        at: datetime,
    ) -> None:
        rows = {
            row.key: row
            for row in session.exec(
                select(SnapshotRow).where(
                    SnapshotRow.topic == result.topic, SnapshotRow.source == result.source
                )
            ).all()
        }
        for obs in result.observations:
            row = rows.get(obs.key)
            if row is None:
                session.add(_new_snapshot_row(obs, at))
                continue
            stored = previous[obs.key]
            changed = [fc.field for fc in changed_fields(stored.observation, obs)]
            if changed or row.removed_at is not None:
                times = load_times(row.field_changed_at_json) | dict.fromkeys(changed, at)
                row.field_changed_at_json = dump_times(times)
                row.last_changed = at
            row.title, row.url, row.matched_alias = obs.title, obs.url, obs.matched_alias
            row.published = obs.published
            row.fields_json = dump_fields(obs.fields)
            row.last_seen = at
            row.removed_at = None
            session.add(row)
        for key in result.gone:
            gone_row = rows.get(key)
            if gone_row is not None and gone_row.removed_at is None:
                gone_row.removed_at = gone_row.last_changed = at
                session.add(gone_row)

    @staticmethod
    def _add_alert(
        session: Session, change: Change, at: datetime, destinations: Destinations
    ) -> None:
        row = AlertRow(
            created_at=at,
            kind=change.kind.value,
            topic=change.topic,
            source=change.source,
            key=change.key,
            title=change.title,
            url=change.url,
            severity=change.severity.value,
            matched_alias=change.matched_alias,
            published=change.published,
            detail=change.detail,
            field_changes_json=dump_field_changes(change.field_changes),
            claim_label=change.claim_label,
            also_reported_by_json=json.dumps(list(change.also_reported_by)),
            thread_of=change.thread_of,
        )
        session.add(row)
        session.flush()  # assigns row.id for the deliveries
        assert row.id is not None
        for destination, channel in destinations.items():
            session.add(DeliveryRow(alert_id=row.id, destination=destination, channel=channel))

    @staticmethod
    def _add_run(
        session: Session,
        topic: str,
        source: str,
        started: datetime,
        at: datetime,
        outcome: PollOutcome,
        alerts: int,
        error: str | None,
    ) -> None:
        duration_ms = max(0, int((at - started).total_seconds() * 1000))
        session.add(
            PollRunRow(
                topic=topic,
                source=source,
                started_at=started,
                duration_ms=duration_ms,
                outcome=outcome.value,
                alerts=alerts,
                error=error,
            )
        )


def _new_snapshot_row(obs: Observation, at: datetime) -> SnapshotRow:
    return SnapshotRow(
        topic=obs.topic,
        source=obs.source,
        key=obs.key,
        title=obs.title,
        url=obs.url,
        published=obs.published,
        matched_alias=obs.matched_alias,
        fields_json=dump_fields(obs.fields),
        first_seen=at,
        last_seen=at,
        last_changed=at,
    )


def _health_change(kind: ChangeKind, state: PollStateRow, at: datetime) -> Change:
    label = source_label(state.source)
    if kind is ChangeKind.SOURCE_DOWN:
        since = state.failing_since.isoformat(timespec="minutes") if state.failing_since else "?"
        title = f"{label} is not answering ({state.consecutive_failures} failed polls)"
        detail = f"Failing since {since}. Last error: {state.last_error}"
    else:
        title = f"{label} is answering again"
        detail = f"Recovered at {at.isoformat(timespec='minutes')}."
    return Change(
        kind=kind,
        topic=state.topic,
        source=state.source,
        key=state.source,
        title=title,
        url="",
        severity=Severity.NORMAL,
        detail=detail,
    )
