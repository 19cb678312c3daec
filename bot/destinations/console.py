"""The console destination: prints alerts readably when no other destination is configured."""

from __future__ import annotations

from collections.abc import Callable

from bot.destinations.outlet import Outcome, Posted
from bot.destinations.render import alert_console_text
from state.outbox import DeliveryLease
from state.types import Alert

__all__ = ["ConsoleDestination"]


class ConsoleDestination:
    """Writes each alert to `write` (stdout in production)."""

    name = "console"

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def ready(self, alert: Alert) -> bool:
        """Always: a terminal has no threads to wait for."""
        return True

    def post(self, lease: DeliveryLease) -> Outcome:
        """Print the alert."""
        self.write(alert_console_text(lease.alert) + "\n")
        return Posted()
