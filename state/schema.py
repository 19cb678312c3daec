"""The schema: each table defined once (SQLModel); Core statements use the `__table__` handles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, DateTime, Index, Table, Text, UniqueConstraint, false, or_
from sqlmodel import Field, SQLModel

from watchers.spec import SourceSpec

__all__ = [
    "AlertRow",
    "DeliveryRow",
    "DigestRunRow",
    "HistoryStateRow",
    "PollRunRow",
    "PollStateRow",
    "RegistryVersionRow",
    "SnapshotRow",
    "TriageActionRow",
    "alert",
    "delivery",
    "digest_run",
    "from_sources",
    "history_state",
    "poll_run",
    "poll_state",
    "registry_version",
    "snapshot",
    "triage_action",
]

_TS = DateTime(timezone=True)


class SnapshotRow(SQLModel, table=True):
    """The latest observation per (topic, source, key)."""

    __tablename__ = "snapshot"
    __table_args__ = (UniqueConstraint("topic", "source", "key", name="uq_snapshot_key"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(index=True)
    source: str
    key: str
    title: str = Field(sa_type=Text)
    url: str = Field(sa_type=Text)
    published: datetime | None = Field(default=None, sa_type=_TS)
    matched_alias: str | None = None
    fields_json: str = Field(sa_type=Text)
    field_changed_at_json: str = Field(default="{}", sa_type=Text)
    first_seen: datetime = Field(sa_type=_TS)
    last_seen: datetime = Field(sa_type=_TS)
    last_changed: datetime = Field(sa_type=_TS)
    removed_at: datetime | None = Field(default=None, sa_type=_TS)


class PollStateRow(SQLModel, table=True):
    """Per (topic, source): baseline, health and the bookkeeping the next poll needs."""

    __tablename__ = "poll_state"

    topic: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    baseline_at: datetime | None = Field(default=None, sa_type=_TS)
    last_attempt: datetime | None = Field(default=None, sa_type=_TS)
    last_success: datetime | None = Field(default=None, sa_type=_TS)
    last_failure: datetime | None = Field(default=None, sa_type=_TS)
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=_TS)
    last_error: str | None = Field(default=None, sa_type=Text)
    down_alerted: bool = False
    meta_json: str = Field(default="{}", sa_type=Text)
    # The poll lease (state/poll/leases.py): who is polling this pair now, and until when at most.
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=_TS)


class AlertRow(SQLModel, table=True):
    """The outbox: one row per change a person should hear about."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_topic_created", "topic", "created_at"),
        # A topic's latest alerts (status, dashboard) without sorting all of them.
        Index("ix_alert_topic_id", "topic", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=_TS)
    kind: str
    topic: str
    source: str
    key: str
    title: str = Field(sa_type=Text)
    url: str = Field(sa_type=Text)
    severity: str
    matched_alias: str | None = None
    matched_in: str | None = None
    excerpt: str | None = Field(default=None, sa_type=Text)
    published: datetime | None = Field(default=None, sa_type=_TS)
    detail: str | None = Field(default=None, sa_type=Text)
    field_changes_json: str = Field(default="[]", sa_type=Text)
    claim_label: str | None = Field(default=None, sa_type=Text)
    also_reported_by_json: str = Field(default="[]", sa_type=Text)
    thread_of: int | None = Field(default=None, foreign_key="alert.id")


class DeliveryRow(SQLModel, table=True):
    """One alert's delivery to one destination (slack, console, or a [[notify]] name)."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "destination", name="uq_delivery_alert_destination"),
        Index("ix_delivery_pending", "destination", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    destination: str
    channel: str | None = None
    state: str = "pending"
    attempts: int = 0
    # Refusals the destination gave no known reason for (e.g. an unknown Slack error code):
    # after a few the delivery is failed, so one poison alert never blocks the queue.
    refusals: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = Field(default=None, sa_type=Text)
    last_attempt_at: datetime | None = Field(default=None, sa_type=_TS)
    delivered_at: datetime | None = Field(default=None, sa_type=_TS)
    ref: str | None = None
    # The outbox lease (state/outbox.py): the deliverer holding this row, and until when.
    lease_token: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=_TS)
    # Set before posting, cleared once the outcome is known: a post may have reached Slack
    # since then, so channel history is checked before posting again.
    posting_since: datetime | None = Field(default=None, sa_type=_TS)
    channel_id: str | None = None  # Slack's id of `channel`, learnt from a successful post
    # Re-routed to the default channel: the channel that refused it (its reason: last_error).
    meant_for: str | None = None


class PollRunRow(SQLModel, table=True):
    """One poll of one source for one topic: what happened and how long it took."""

    __tablename__ = "poll_run"
    __table_args__ = (Index("ix_poll_run_started", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str
    source: str
    started_at: datetime = Field(sa_type=_TS)
    duration_ms: int
    outcome: str
    alerts: int = 0
    error: str | None = Field(default=None, sa_type=Text)


class DigestRunRow(SQLModel, table=True):
    """One day's email digest to one recipient list: claimed before sending, marked after."""

    __tablename__ = "digest_run"
    __table_args__ = (
        # The once-a-day guarantee: a second claim of the same (day, recipients) cannot insert.
        UniqueConstraint("day", "recipients_key", name="uq_digest_run_day_recipients"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date
    recipients_key: str  # sha256 of the normalised address list (fixed length, indexable)
    recipients: str = Field(sa_type=Text)
    state: str  # sending | sent | failed
    attempts: int = 0
    claimed_at: datetime = Field(sa_type=_TS)
    sent_at: datetime | None = Field(default=None, sa_type=_TS)
    alerts: int = 0
    message_id: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)


class RegistryVersionRow(SQLModel, table=True):
    """One version of a trial's registry record (the registry's history), imported silently."""

    __tablename__ = "registry_version"

    nct_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    date: str  # the sponsor's submit/QC date of this version, YYYY-MM-DD
    overall_status: str | None = None
    start_date: str | None = None  # "2023-06 (estimated)": date and ACTUAL/ESTIMATED
    primary_completion_date: str | None = None
    completion_date: str | None = None
    enrollment: str | None = None  # "95 (estimated)"
    module_labels_json: str = Field(default="[]", sa_type=Text)
    # The version's protocol fields (outcomes, eligibility, arms, design); migration 0007.
    protocol_json: str = Field(
        default="{}", sa_type=Text, sa_column_kwargs={"server_default": "{}"}
    )
    imported_at: datetime = Field(sa_type=_TS)


class HistoryStateRow(SQLModel, table=True):
    """Per trial: the history import's health and the record update it last caught up with."""

    __tablename__ = "history_state"

    nct_id: str = Field(primary_key=True)
    last_attempt: datetime | None = Field(default=None, sa_type=_TS)
    last_success: datetime | None = Field(default=None, sa_type=_TS)
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    # The live record's last_update_posted when the import last completed: a later update
    # may have added versions, so the list is read again.
    caught_up_with: str | None = None


class TriageActionRow(SQLModel, table=True):
    """The triage ledger (append-only): acknowledge, snooze, mute, and their undoing."""

    __tablename__ = "triage_action"
    __table_args__ = (
        # A click Slack delivers twice (a retry, a double click) is stored once.
        UniqueConstraint("click", name="uq_triage_action_click"),
        # Identical clicks (same user, button, message, value) on the same ledger state: one row.
        Index("uq_triage_action_repeat", "repeat_key", unique=True),
        Index("ix_triage_action_record", "topic", "source", "record_key"),
        Index("ix_triage_action_alert", "alert_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=_TS)
    user_id: str
    user_name: str = Field(sa_type=Text)
    action: str  # acknowledge | snooze | unsnooze | mute | unmute
    alert_id: int
    topic: str
    source: str
    record_key: str = Field(sa_type=Text)
    field: str | None = None
    until: datetime | None = Field(default=None, sa_type=_TS)
    click: str | None = None
    repeat_key: str | None = None  # `repeat_of` @ the ledger row it was clicked after


def _core(model: type[SQLModel]) -> Table:
    """The Core table SQLModel built for `model`."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set by SQLModel's metaclass


# The same tables as Core sees them, for statements built without the ORM (status reads, the
# poll's hot path). Casts only: SQLModel types `__table__` loosely.
snapshot = _core(SnapshotRow)
poll_state = _core(PollStateRow)
alert = _core(AlertRow)
delivery = _core(DeliveryRow)
poll_run = _core(PollRunRow)
digest_run = _core(DigestRunRow)
registry_version = _core(RegistryVersionRow)
history_state = _core(HistoryStateRow)
triage_action = _core(TriageActionRow)


def from_sources(column: Any, specs: Iterable[SourceSpec]) -> ColumnElement[bool]:
    """Rows of these sources: `column` names a spec family's id, or `<id>:<name>` of one of
    its instances (a source column is read the same way everywhere)."""
    specs = list(specs)
    exact = [spec.id for spec in specs if not spec.instances]
    conditions = [column.like(f"{spec.id}:%") for spec in specs if spec.instances]
    if exact:
        conditions.append(column.in_(exact))
    return or_(*conditions) if conditions else false()
