"""Conversions between table rows and value types, and the JSON the rows hold."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from state.types import (
    Alert,
    Change,
    ChangeKind,
    DeliveryState,
    FieldChange,
    Severity,
    SourceHealth,
    StoredObservation,
)
from watchers.model import FieldValue, Observation, freeze_fields

if TYPE_CHECKING:  # rows come as ORM objects or as Core rows (status reads build no ORM)
    from sqlalchemy import Row

    from state.schema import AlertRow, DeliveryRow, PollStateRow, SnapshotRow

__all__ = [
    "alert_from_rows",
    "aware",
    "dump_field_changes",
    "dump_fields",
    "dump_times",
    "health_from_row",
    "load_fields",
    "load_times",
    "observation_from_row",
]


def aware(value: datetime | None) -> datetime | None:
    """SQLite drops the zone; every stored time is UTC, so put it back."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _plain(value: FieldValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _typed(value: Any) -> FieldValue:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


def dump_fields(fields: Mapping[str, FieldValue]) -> str:
    """Fields as JSON text with a stable key order."""
    return json.dumps({k: _plain(v) for k, v in fields.items()}, sort_keys=True)


def load_fields(text: str) -> Mapping[str, FieldValue]:
    """Fields from JSON text, lists back to tuples."""
    return freeze_fields({k: _typed(v) for k, v in json.loads(text).items()})


def dump_times(times: Mapping[str, datetime]) -> str:
    """A {field: time} map as JSON text."""
    return json.dumps({k: v.isoformat() for k, v in sorted(times.items())})


def load_times(text: str) -> dict[str, datetime]:
    """A {field: time} map from JSON text."""
    return {k: datetime.fromisoformat(v) for k, v in json.loads(text).items()}


def dump_field_changes(changes: tuple[FieldChange, ...]) -> str:
    """Field changes as JSON text."""
    return json.dumps(
        [
            {
                "field": c.field,
                "label": c.label,
                "before": _plain(c.before),
                "after": _plain(c.after),
                "text": c.text,
            }
            for c in changes
        ]
    )


def _load_field_changes(text: str) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(
            field=c["field"],
            label=c["label"],
            before=_typed(c["before"]),
            after=_typed(c["after"]),
            text=c["text"],
        )
        for c in json.loads(text)
    )


def observation_from_row(row: SnapshotRow | Row[Any]) -> StoredObservation:
    """A snapshot row as a StoredObservation."""
    obs = Observation(
        source=row.source,
        key=row.key,
        topic=row.topic,
        title=row.title,
        url=row.url,
        fields=load_fields(row.fields_json),
        published=aware(row.published),
        matched_alias=row.matched_alias,
    )
    return StoredObservation(
        observation=obs,
        first_seen=aware(row.first_seen) or row.first_seen,
        last_seen=aware(row.last_seen) or row.last_seen,
        last_changed=aware(row.last_changed) or row.last_changed,
        field_changed_at={
            k: aware(v) or v for k, v in load_times(row.field_changed_at_json).items()
        },
        removed_at=aware(row.removed_at),
    )


def alert_from_rows(
    row: AlertRow | Row[Any], delivery: DeliveryRow | Row[Any] | None = None
) -> Alert:
    """An alert row (and optionally one of its deliveries) as an Alert."""
    assert row.id is not None  # rows come from the database
    change = Change(
        kind=ChangeKind(row.kind),
        topic=row.topic,
        source=row.source,
        key=row.key,
        title=row.title,
        url=row.url,
        severity=Severity(row.severity),
        matched_alias=row.matched_alias,
        matched_in=row.matched_in,
        excerpt=row.excerpt,
        field_changes=_load_field_changes(row.field_changes_json),
        published=aware(row.published),
        detail=row.detail,
        claim_label=row.claim_label,
        also_reported_by=tuple(json.loads(row.also_reported_by_json)),
        thread_of=row.thread_of,
    )
    created = aware(row.created_at) or row.created_at
    if delivery is None:
        return Alert(id=row.id, created_at=created, change=change)
    return Alert(
        id=row.id,
        created_at=created,
        change=change,
        delivery_id=delivery.id,
        destination=delivery.destination,
        channel=delivery.channel,
        state=DeliveryState(delivery.state),
        attempts=delivery.attempts,
        meant_for=delivery.meant_for,
        last_error=delivery.last_error,
        ref=delivery.ref,
    )


def health_from_row(row: PollStateRow | Row[Any], *, stale: str | None = None) -> SourceHealth:
    """A poll-state row as the SourceHealth people see."""
    return SourceHealth(
        source=row.source,
        topic=row.topic,
        last_attempt=aware(row.last_attempt),
        last_success=aware(row.last_success),
        last_failure=aware(row.last_failure),
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
        down_since=aware(row.failing_since) if row.down_alerted else None,
        stale=stale,
    )
