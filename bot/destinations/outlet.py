"""What every deliverer is and reports: the protocol and the report of one outbox flush."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Deliverer", "DeliveryReport"]


@dataclass
class DeliveryReport:
    """What one outbox flush did."""

    destination: str
    sent: int = 0
    failed: int = 0
    still_pending: int = 0
    errors: list[str] = field(default_factory=list)
    rerouted: int = 0  # refused by their channel, queued for the default channel instead
    found_posted: int = 0  # an earlier, unanswered attempt had posted them: not posted again


class Deliverer(Protocol):
    destination: str

    def flush(self) -> DeliveryReport: ...
