"""What commands that only read stored state (`status`) open: the stored state and topics.

No HTTP client, Slack, destinations or watchers: `trialwatch status` starts in a fraction of
the time `check` needs (tests/bot/test_fast_start.py keeps those imports out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.config import LoadedConfig, Settings
from bot.destinations.quiet import QuietHours
from bot.topics import find_topic, topics_from_settings
from state.status import CARD_ALERTS, StoredState
from state.types import DestinationHealth, TopicStatus
from watchers.model import Topic

__all__ = [
    "Reader",
    "mark_quiet",
    "open_reader",
    "quiet_hours",
    "utc_now",
]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; everything else receives a clock instead of calling now()."""
    return datetime.now(UTC)


def quiet_hours(settings: Settings) -> dict[str, QuietHours]:
    """Each destination's quiet hours, by delivery-row name ([slack], each [[notify]])."""
    found = {"slack": settings.slack.quiet}
    found |= {entry.name: entry.quiet for entry in settings.notify}
    return {name: quiet for name, quiet in found.items() if quiet is not None}


def mark_quiet(
    health: Iterable[DestinationHealth], quiet: Mapping[str, QuietHours], now: datetime
) -> list[DestinationHealth]:
    """Destinations in their quiet hours at `now` marked with when those end."""
    return [
        replace(h, quiet_until=q.until) if (q := quiet.get(h.destination)) and q.active(now) else h
        for h in health
    ]


@dataclass
class Reader:
    """The stored state of the configured topics, read-only by intent."""

    config: LoadedConfig
    store: StoredState
    topics: list[Topic]
    clock: Clock

    def resolve_topic(self, name: str) -> Topic:
        """A topic by its name, an alias or a trial id (case-insensitive)."""
        return find_topic(self.topics, name, self.store.snapshot)

    def topic_status(self, topic: str, *, alerts: int | None = CARD_ALERTS) -> TopicStatus:
        """A topic's stored status (`alerts` alerts, None: all), its destinations marked when
        in quiet hours now."""
        status = self.store.status(topic, alerts=alerts, at=self.clock())  # with its triage
        # Slack delivers only with a bot token (bot/app.py builds no Slack deliverer without).
        secrets = self.config.secrets
        quiet = {
            name: hours
            for name, hours in quiet_hours(self.config.settings).items()
            if name != "slack" or secrets.slack_bot_token is not None
        }
        marked = mark_quiet(status.destinations, quiet, self.clock())
        return replace(status, destinations=tuple(marked))


@contextmanager
def open_reader(config: LoadedConfig, *, clock: Clock = utc_now) -> Iterator[Reader]:
    """Open the stored state (pending migrations applied, as every command does) and close it
    after."""
    settings = config.settings
    store = StoredState.open(settings.storage.url)
    try:
        yield Reader(config, store, topics_from_settings(settings), clock)
    finally:
        store.close()
