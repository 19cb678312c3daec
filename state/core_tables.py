"""The tables that Core statements use, as SQLAlchemy Core sees them (no ORM, no SQLModel).

`trialwatch status` reads through these: building the SQLModel classes of state/tables.py and
importing the ORM costs more than the whole read (issue 10: a fast start). The poll's hot-path
statements (leases, poll_state rows, snapshot batches, run rows) are built on them too.
state/tables.py stays the definition that migrations and ORM writes follow (SQLModel cannot map
a class onto an existing Table); tests/state/test_core_tables.py checks that every column here
matches it (name, type, nullability, primary key).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "alert",
    "delivery",
    "history_state",
    "poll_run",
    "poll_state",
    "registry_version",
    "snapshot",
    "triage_action",
]

_TS = DateTime(timezone=True)
metadata = MetaData()


def _text(name: str, *, nullable: bool = False) -> Column[str]:
    return Column(name, Text, nullable=nullable)


def _string(name: str, *, nullable: bool = False, primary_key: bool = False) -> Column[str]:
    return Column(name, String, nullable=nullable, primary_key=primary_key)


def _time(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, _TS, nullable=nullable)


def _int(name: str, *, nullable: bool = False, primary_key: bool = False) -> Column[int]:
    return Column(name, Integer, nullable=nullable, primary_key=primary_key)


snapshot = Table(
    "snapshot",
    metadata,
    _int("id", primary_key=True),
    _string("topic"),
    _string("source"),
    _string("key"),
    _text("title"),
    _text("url"),
    _time("published"),
    _string("matched_alias", nullable=True),
    _text("fields_json"),
    _text("field_changed_at_json"),
    _time("first_seen", nullable=False),
    _time("last_seen", nullable=False),
    _time("last_changed", nullable=False),
    _time("removed_at"),
)

poll_state = Table(
    "poll_state",
    metadata,
    _string("topic", primary_key=True),
    _string("source", primary_key=True),
    _time("baseline_at"),
    _time("last_attempt"),
    _time("last_success"),
    _time("last_failure"),
    _int("consecutive_failures"),
    _time("failing_since"),
    _text("last_error", nullable=True),
    Column("down_alerted", Boolean, nullable=False),
    _text("meta_json"),
    _string("lease_owner", nullable=True),
    _time("lease_until"),
)

poll_run = Table(
    "poll_run",
    metadata,
    _int("id", primary_key=True),
    _string("topic"),
    _string("source"),
    _time("started_at", nullable=False),
    _int("duration_ms"),
    _string("outcome"),
    _int("alerts"),
    _text("error", nullable=True),
)

alert = Table(
    "alert",
    metadata,
    _int("id", primary_key=True),
    _time("created_at", nullable=False),
    _string("kind"),
    _string("topic"),
    _string("source"),
    _string("key"),
    _text("title"),
    _text("url"),
    _string("severity"),
    _string("matched_alias", nullable=True),
    _string("matched_in", nullable=True),
    _text("excerpt", nullable=True),
    _time("published"),
    _text("detail", nullable=True),
    _text("field_changes_json"),
    _text("claim_label", nullable=True),
    _text("also_reported_by_json"),
    _int("thread_of", nullable=True),
)

delivery = Table(
    "delivery",
    metadata,
    _int("id", primary_key=True),
    _int("alert_id"),
    _string("destination"),
    _string("channel", nullable=True),
    _string("state"),
    _int("attempts"),
    _int("refusals"),
    _text("last_error", nullable=True),
    _time("last_attempt_at"),
    _time("delivered_at"),
    _string("ref", nullable=True),
    _string("lease_token", nullable=True),
    _time("lease_until"),
    _time("posting_since"),
    _string("channel_id", nullable=True),
    _string("meant_for", nullable=True),
)

registry_version = Table(
    "registry_version",
    metadata,
    _string("nct_id", primary_key=True),
    _int("version", primary_key=True),
    _string("date"),
    _string("overall_status", nullable=True),
    _string("start_date", nullable=True),
    _string("primary_completion_date", nullable=True),
    _string("completion_date", nullable=True),
    _string("enrollment", nullable=True),
    _text("module_labels_json"),
    _time("imported_at", nullable=False),
)

history_state = Table(
    "history_state",
    metadata,
    _string("nct_id", primary_key=True),
    _time("last_attempt"),
    _time("last_success"),
    _int("consecutive_failures"),
    _text("last_error", nullable=True),
    _string("caught_up_with", nullable=True),
)

triage_action = Table(
    "triage_action",
    metadata,
    _int("id", primary_key=True),
    _time("at", nullable=False),
    _string("user_id"),
    _text("user_name"),
    _string("action"),
    _int("alert_id"),
    _string("topic"),
    _string("source"),
    _text("record_key"),
    _string("field", nullable=True),
    _time("until"),
    _string("click", nullable=True),
    _string("repeat_key", nullable=True),
)
