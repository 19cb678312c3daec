"""The write side of committing a poll: snapshot rows, alert rows with deliveries, poll runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, select

from state.codec import aware, dump_field_changes, dump_fields, dump_times, load_times
from state.diff import changed_fields
from state.fields import source_label
from state.outbox import Destinations, as_route
from state.tables import AlertRow, DeliveryRow, PollRunRow, PollStateRow, SnapshotRow
from state.types import Change, ChangeKind, PollOutcome, Severity, StoredObservation
from watchers.model import Observation, SourceResult

__all__ = ["add_alert", "add_run", "health_change", "write_snapshot"]


def write_snapshot(
    session: Session,
    result: SourceResult,
    previous: Mapping[str, StoredObservation],
    at: datetime,
) -> None:
    """Upsert the poll's observations (with per-field change times) and mark `gone` keys."""
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


def add_alert(session: Session, change: Change, at: datetime, destinations: Destinations) -> None:
    """Insert one alert and a pending delivery per destination that takes its severity."""
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
    for destination, value in destinations.items():
        route = as_route(value)
        if route.accepts(change.severity):
            session.add(
                DeliveryRow(alert_id=row.id, destination=destination, channel=route.channel)
            )


def add_run(
    session: Session,
    topic: str,
    source: str,
    started: datetime,
    at: datetime,
    outcome: PollOutcome,
    alerts: int,
    error: str | None,
) -> None:
    """Record one poll: outcome, alerts, error, duration."""
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


def health_change(kind: ChangeKind, state: PollStateRow, at: datetime) -> Change:
    """The source_down / source_recovered alert for a (topic, source)."""
    label = source_label(state.source)
    if kind is ChangeKind.SOURCE_DOWN:
        failing = aware(state.failing_since)
        since = failing.isoformat(timespec="minutes") if failing else "?"
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
