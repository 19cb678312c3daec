"""What a destination is: post one alert and say how it went; and the report of one flush."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from state.outbox import DeliveryLease
from state.types import Alert, DeliveryState

__all__ = [
    "DeliveryReport",
    "Destination",
    "Failed",
    "Held",
    "Outcome",
    "Posted",
    "Refused",
    "Rerouted",
    "RetryLater",
]


@dataclass(frozen=True)
class Posted:
    """The destination took the alert: never send it again."""

    ref: str | None = None  # the destination's id for the message (Slack's ts), if any
    channel_id: str | None = None  # Slack's id of the row's channel, learnt from the answer
    found_earlier: bool = False  # an earlier, unanswered attempt had posted it already


@dataclass(frozen=True)
class RetryLater:
    """Down, throttling, unreachable or unauthorised: keep it, stop this destination's flush."""

    reason: str
    maybe_posted: bool = False  # the request went out and no answer came back


@dataclass(frozen=True)
class Refused:
    """Refused without a known cause: counted; failed after a few (state/outbox.MAX_REFUSALS)."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """No retry can fix it: failed for good with `reason`; the flush moves on."""

    reason: str


@dataclass(frozen=True)
class Rerouted:
    """The channel refused it for good: queue the same delivery for `to_channel`."""

    reason: str
    to_channel: str


@dataclass(frozen=True)
class Held:
    """Not posted on purpose (its record is snoozed, only muted fields changed): never retried,
    never posted late; it stays stored and listed in status and the digest."""

    reason: str
    state: DeliveryState


Outcome = Posted | RetryLater | Refused | Failed | Rerouted | Held


class Destination(Protocol):
    """Somewhere alerts go; the outbox loop (bot/destinations/flush.py) leases and records."""

    @property
    def name(self) -> str:
        """The delivery rows' destination: shown in status and logs, never a secret."""
        ...

    def ready(self, alert: Alert) -> bool:
        """False to leave a due alert pending for now (a follow-up whose parent is not out)."""
        ...

    def post(self, lease: DeliveryLease) -> Outcome:
        """Post one leased alert; never raises for the destination's own failures."""
        ...


@dataclass
class DeliveryReport:
    """What one outbox flush did for one destination."""

    destination: str
    sent: int = 0
    failed: int = 0
    still_pending: int = 0
    errors: list[str] = field(default_factory=list)
    rerouted: int = 0  # refused by their channel, queued for the default channel instead
    found_posted: int = 0  # an earlier, unanswered attempt had posted them: not posted again
    refused: int = 0  # refused without a known cause, to be tried again (up to a limit)
    # In quiet hours: when they end ("07:00 Europe/Zurich") and the normal and low alerts
    # waiting for that (not attempted, not failing).
    quiet_until: str | None = None
    held: int = 0
    triaged: int = 0  # held by triage (snoozed record, muted fields): never posted
