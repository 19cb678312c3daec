"""Value types of the triage ledger: who acknowledged, snoozed or muted what, and until when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Acknowledgement",
    "Mute",
    "SnoozedRecord",
    "TriageAction",
    "TriageKind",
    "TriageSummary",
    "UnackedAlert",
]


class TriageKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    UNSNOOZE = "unsnooze"
    MUTE = "mute"
    UNMUTE = "unmute"


@dataclass(frozen=True)
class TriageAction:
    """One ledger row: a person's action on an alert, its record or one field of the record."""

    at: datetime
    user_id: str  # Slack's user id (validated `^[UW][A-Z0-9]+$` before it gets here)
    user_name: str  # as Slack sent it: neutralise it wherever it is shown
    kind: TriageKind
    alert_id: int
    topic: str
    source: str
    record_key: str
    field: str | None = None  # mute / unmute only
    until: datetime | None = None  # snooze only
    click: str | None = None  # the click's identity (user id + action_ts): a redelivery is one
    # What a click looks like to the person (user, button, message, value): the same within
    # REPEAT_WINDOW and on the same ledger state is one action (state/triage.py).
    repeat_of: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged an alert, and when."""

    user_id: str
    user_name: str
    at: datetime


@dataclass(frozen=True)
class SnoozedRecord:
    """A record whose normal and low alerts are held until `until`."""

    topic: str
    source: str
    record_key: str
    until: datetime
    user_id: str
    user_name: str
    at: datetime


@dataclass(frozen=True)
class Mute:
    """One field of one trial record that does not post to Slack."""

    topic: str
    source: str
    record_key: str
    field: str
    user_id: str
    user_name: str
    at: datetime


@dataclass(frozen=True)
class UnackedAlert:
    """A high alert posted to Slack that nobody has acknowledged."""

    alert_id: int
    created_at: datetime
    source: str
    record_key: str
    title: str


@dataclass(frozen=True)
class TriageSummary:
    """What `status`, `/status` and the digest say about a topic's triage."""

    unacked_high: tuple[UnackedAlert, ...] = ()
    snoozed: tuple[SnoozedRecord, ...] = ()
    muted: tuple[Mute, ...] = ()
    held: tuple[tuple[int, str, str], ...] = ()  # (alert id, "snoozed" | "muted", title)
    recent: tuple[TriageAction, ...] = ()
    titles: Mapping[int, str] = field(default_factory=dict)  # the recent actions' alerts, by id

    @property
    def empty(self) -> bool:
        """Nothing to say."""
        return not (self.unacked_high or self.snoozed or self.muted or self.held or self.recent)
