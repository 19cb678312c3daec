"""Plain value types above the database: changes, alerts, status views. No ORM rows leak out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from state.triage_types import TriageSummary
from watchers.model import FieldValue, Observation, RegistryVersion
from watchers.spec import Severity

__all__ = [
    "Alert",
    "Change",
    "ChangeKind",
    "DeliveryState",
    "DestinationHealth",
    "FieldChange",
    "HistoryHealth",
    "PollOutcome",
    "Severity",
    "SourceHealth",
    "StoredObservation",
    "TopicStatus",
]


class ChangeKind(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    REMOVED = "removed"
    SOURCE_DOWN = "source_down"
    SOURCE_RECOVERED = "source_recovered"
    CONFIRMED = "confirmed"  # an earlier claim is now backed by an official record
    DEADLINE = "deadline"  # a compliance clock: results due in 30 days, or overdue
    HELD = "held"  # one poll brought more alerts than [alerts].max_per_poll: they are held


class DeliveryState(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # taken by a deliverer that may be posting it right now
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # part of an alert storm: posted only once released (`trialwatch release`)
    # Triage (state/triage.py), decided when it was due: never posted, never retried, listed
    # in status and the digest. Its record was snoozed / only muted fields changed.
    SNOOZED = "snoozed"
    MUTED = "muted"


class PollOutcome(StrEnum):
    BASELINE = "baseline"
    OK = "ok"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"  # another process holds this poll's lease, or polled it moments ago


@dataclass(frozen=True)
class FieldChange:
    """One tracked field that changed, with its human wording (`Status: A -> B`)."""

    field: str
    label: str
    before: FieldValue
    after: FieldValue
    text: str


@dataclass(frozen=True)
class Change:
    """Something a person should hear about: a new record, a changed one, a source going down."""

    kind: ChangeKind
    topic: str
    source: str
    key: str
    title: str
    url: str
    severity: Severity
    matched_alias: str | None = None
    field_changes: tuple[FieldChange, ...] = ()
    # Where a feed or news item names the topic ("headline" / "text"), and the words around
    # the name when it is in the text.
    matched_in: str | None = None
    excerpt: str | None = None
    published: datetime | None = None
    detail: str | None = None  # plain-words note, e.g. the error behind source_down
    # Claim check of a news/feed headline: "confirmed by <record>" / "unconfirmed: ...".
    claim_label: str | None = None
    # Other outlets that carried the same story (one alert per story).
    also_reported_by: tuple[str, ...] = ()
    # A follow-up to an earlier alert (e.g. its claim got confirmed): post in that alert's thread.
    thread_of: int | None = None


@dataclass(frozen=True)
class Alert:
    """A stored Change with its outbox identity and one destination's delivery state."""

    id: int
    created_at: datetime
    change: Change
    delivery_id: int | None = None
    destination: str | None = None
    channel: str | None = None
    state: DeliveryState | None = None
    attempts: int = 0
    last_error: str | None = None
    ref: str | None = None  # e.g. the Slack message ts once posted
    # Re-routed here (the default channel) because posting to this channel failed for good.
    meant_for: str | None = None
    # Plain-words notes added when it is delivered, e.g. "posted despite snooze by @ana".
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredObservation:
    """The latest stored view of one record plus when it, and each field, last changed."""

    observation: Observation
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime
    field_changed_at: dict[str, datetime] = field(default_factory=dict)
    removed_at: datetime | None = None


@dataclass(frozen=True)
class SourceHealth:
    """How one source has been answering for one topic."""

    source: str
    topic: str
    last_attempt: datetime | None
    last_success: datetime | None
    last_failure: datetime | None
    consecutive_failures: int
    last_error: str | None
    down_since: datetime | None
    # Answers, but its data is older than expected (plain words; state/staleness.py).
    stale: str | None = None


@dataclass(frozen=True)
class HistoryHealth:
    """How the registry-history import has been going for one trial."""

    nct: str
    last_attempt: datetime | None
    last_success: datetime | None
    consecutive_failures: int
    last_error: str | None
    caught_up_with: str | None


@dataclass(frozen=True)
class DestinationHealth:
    """How one destination has been taking alerts, from its delivery rows."""

    destination: str
    pending: int = 0
    failed: int = 0  # deliveries failed for good (each with its reason)
    last_delivered: datetime | None = None
    # The latest error of a delivery still waiting to be retried, and when it happened.
    retry_error: str | None = None
    retry_since: datetime | None = None
    # The latest delivery failed for good, when and why.
    last_failed_at: datetime | None = None
    last_failed_error: str | None = None
    # In its quiet hours now: when they end ("07:00 Europe/Zurich"). The application fills it
    # in from its configuration; the pending ones wait for it, which is not a failure.
    quiet_until: str | None = None

    @property
    def failing(self) -> bool:
        """Retrying, or its latest outcome was a failure: someone should look."""
        if self.retry_error is not None:
            return True
        if self.last_failed_at is None:
            return False
        return self.last_delivered is None or self.last_failed_at >= self.last_delivered


@dataclass(frozen=True)
class TopicStatus:
    """Everything `status` shows for a topic, read from stored state only."""

    topic: str
    trials: tuple[StoredObservation, ...]
    recent_alerts: tuple[Alert, ...]  # unacknowledged high ones first, then newest
    health: tuple[SourceHealth, ...]
    failed_deliveries: tuple[Alert, ...] = ()
    # Registry history per trial id (oldest version first), and the import's health lines.
    history: dict[str, tuple[RegistryVersion, ...]] = field(default_factory=dict)
    history_health: tuple[HistoryHealth, ...] = ()
    destinations: tuple[DestinationHealth, ...] = ()  # every destination, not just this topic
    # Acknowledged / snoozed / muted (state/triage.py): what needs an owner, what is held.
    triage: TriageSummary = field(default_factory=TriageSummary)
    alert_count: int = 0  # all the topic's alerts: those past recent_alerts are "N more"
