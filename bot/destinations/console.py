"""The console deliverer: prints alerts readably when Slack is not configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.destinations.outlet import DeliveryReport
from bot.destinations.render import alert_console_text
from state.outbox import DEFAULT_DELIVERY_LEASE
from state.store import Store

__all__ = ["ConsoleDelivery"]


class ConsoleDelivery:
    """Prints pending alerts readably when Slack is not configured."""

    destination = "console"

    def __init__(
        self, store: Store, clock: Callable[[], datetime], write: Callable[[str], None]
    ) -> None:
        self.store = store
        self.clock = clock
        self.write = write

    def flush(self) -> DeliveryReport:
        """Print and mark every due console alert."""
        report = DeliveryReport(self.destination)
        outbox = self.store.outbox
        seen: set[int] = set()
        while (alert := outbox.next_due(self.destination, at=self.clock(), skip=seen)) is not None:
            assert alert.delivery_id is not None
            seen.add(alert.delivery_id)
            lease = outbox.take(alert.delivery_id, at=self.clock(), ttl=DEFAULT_DELIVERY_LEASE)
            if lease is None:
                continue
            self.write(alert_console_text(lease.alert) + "\n")
            outbox.mark_sent(alert.delivery_id, at=self.clock(), token=lease.token)
            report.sent += 1
        return report
