"""What a day's email digest holds: the alerts of its window, grouped, and the sources' health.

Day D's digest covers [D-1 at `[digest].time`, D at `[digest].time`) in `[digest].timezone`:
24 hours, except on daylight-saving days (23 or 25), so consecutive digests tile time exactly
and no alert is missed or repeated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from bot.calendar.coming_up import digest_lines
from bot.calendar.read import topic_calendar
from bot.config import DigestSettings
from bot.config.milestones import Milestone
from bot.destinations.render import KIND_WORDS
from bot.links import web_link
from bot.status.triage_lines import triage_lines
from state.fields import source_label
from state.store import Store
from state.types import Alert, DeliveryState, Severity, SourceHealth

__all__ = [
    "DestinationLine",
    "Digest",
    "DigestItem",
    "FailingSource",
    "HealthySource",
    "SourceSection",
    "TopicSection",
    "assemble_digest",
    "digest_day",
    "digest_window",
]

_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.NORMAL: 1, Severity.LOW: 2}
_SLACK_WORDS = {
    DeliveryState.SENT: "already alerted in Slack",
    DeliveryState.PENDING: "not yet posted to Slack",
    DeliveryState.IN_FLIGHT: "being posted to Slack",
    DeliveryState.FAILED: "Slack delivery failed",
    DeliveryState.SNOOZED: "held by snooze, not posted to Slack",
    DeliveryState.MUTED: "held by mute, not posted to Slack",
}
_TRIAGED = (DeliveryState.SNOOZED, DeliveryState.MUTED)


@dataclass(frozen=True)
class DigestItem:
    """One alert as the digest shows it; times are already in the digest's zone."""

    alert: Alert
    when: str
    kind: str
    link: str | None  # only http(s) URLs become links: a feed could carry `javascript:`
    slack: str | None  # e.g. "already alerted in Slack"; None when Slack is not a destination

    @property
    def already_in_slack(self) -> bool:
        """Whether Slack confirmed this alert's post."""
        return self.alert.destination == "slack" and self.alert.state is DeliveryState.SENT


@dataclass(frozen=True)
class SourceSection:
    """The items of one source within a topic."""

    source: str
    label: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class TopicSection:
    """The items of one topic, by source."""

    topic: str
    sources: tuple[SourceSection, ...]


@dataclass(frozen=True)
class HealthySource:
    """A source answering for every topic, when it last did, and whether its data is stale."""

    label: str
    last_success: str
    stale: str | None = None


@dataclass(frozen=True)
class FailingSource:
    """A source failing for one topic, with its last error in plain words."""

    label: str
    topic: str
    failures: int
    since: str
    last_error: str


@dataclass(frozen=True)
class DestinationLine:
    """One destination's health as the digest shows it; times in the digest's zone."""

    name: str
    failing: bool
    last_delivered: str
    pending: int
    retry_error: str | None
    failed: int
    last_failed_error: str | None


@dataclass(frozen=True)
class Digest:
    """Everything one day's digest shows."""

    day: date
    timezone: str
    start: datetime
    end: datetime
    topics: tuple[TopicSection, ...]
    healthy: tuple[HealthySource, ...]
    failing: tuple[FailingSource, ...]
    destinations: tuple[DestinationLine, ...] = ()
    # Per topic, its triage at the window's end: unacknowledged high alerts, snoozes, mutes.
    triage: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Per topic, its calendar lines: guidance passed unrecorded, the next 90 days (bot/calendar).
    calendar: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def items(self) -> list[DigestItem]:
        """Every item, in display order."""
        return [i for t in self.topics for s in t.sources for i in s.items]

    @property
    def events(self) -> int:
        """How many alerts the day had."""
        return len(self.items)

    @property
    def high(self) -> int:
        """How many of them are high severity."""
        return sum(1 for i in self.items if i.alert.change.severity is Severity.HIGH)

    @property
    def quiet(self) -> bool:
        """No alert in the window."""
        return not self.topics

    @property
    def window(self) -> str:
        """The covered period in words, in the digest's zone."""
        return f"{_local(self.start, self.timezone)} to {_local(self.end, self.timezone)}"


def _local(value: datetime | None, zone: str) -> str:
    if value is None:
        return "never"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def digest_window(day: date, at: time_of_day, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of `day`'s digest as UTC times."""
    zone = ZoneInfo(timezone)
    end = datetime.combine(day, at, tzinfo=zone)
    start = datetime.combine(day - timedelta(days=1), at, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def digest_day(now: datetime, at: time_of_day, timezone: str) -> date:
    """The day whose digest time most recently passed: before the time, that is yesterday."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    _, end = digest_window(today, at, timezone)
    return today if now >= end else today - timedelta(days=1)


def _item(alert: Alert, zone: str) -> DigestItem:
    change = alert.change
    slack = _SLACK_WORDS.get(alert.state) if alert.destination == "slack" and alert.state else None
    if alert.state in _TRIAGED and alert.last_error:  # who snoozed or muted it, until when
        slack = f"{alert.last_error}, not posted to Slack"
    return DigestItem(
        alert=alert,
        when=_local(alert.created_at, zone),
        kind=KIND_WORDS.get(change.kind, change.kind.value),
        link=web_link(change.url),
        slack=slack,
    )


def _sections(alerts: Sequence[Alert], zone: str, order: Sequence[str]) -> list[TopicSection]:
    by_topic: dict[str, dict[str, list[Alert]]] = {}
    for alert in alerts:
        by_topic.setdefault(alert.change.topic, {}).setdefault(alert.change.source, []).append(
            alert
        )
    # Topics in config order (the order people wrote them), unknown ones after, by name.
    rank = {name: i for i, name in enumerate(order)}
    topics = sorted(by_topic, key=lambda t: (rank.get(t, len(rank)), t))
    sections = []
    for topic in topics:
        sources = sorted(by_topic[topic], key=lambda s: (source_label(s).casefold(), s))
        sections.append(
            TopicSection(
                topic=topic,
                sources=tuple(
                    SourceSection(
                        source=source,
                        label=source_label(source),
                        items=tuple(
                            _item(a, zone)
                            for a in sorted(
                                by_topic[topic][source],
                                key=lambda a: (_SEVERITY_ORDER[a.change.severity], a.created_at),
                            )
                        ),
                    )
                    for source in sources
                ),
            )
        )
    return sections


def _health(
    rows: Sequence[SourceHealth], zone: str
) -> tuple[tuple[HealthySource, ...], tuple[FailingSource, ...]]:
    failing = tuple(
        FailingSource(
            label=source_label(h.source),
            topic=h.topic,
            failures=h.consecutive_failures,
            since=_local(h.down_since or h.last_failure, zone),
            last_error=h.last_error or "unknown error",
        )
        for h in rows
        if h.consecutive_failures
    )
    failing_sources = {h.source for h in rows if h.consecutive_failures}
    latest: dict[str, datetime | None] = {}
    stale: dict[str, str] = {}
    for h in rows:
        if h.source not in failing_sources:
            seen = latest.get(h.source)
            latest[h.source] = max(filter(None, (seen, h.last_success)), default=None)
            if h.stale:
                stale.setdefault(h.source, h.stale)
    healthy = tuple(
        HealthySource(label=source_label(s), last_success=_local(t, zone), stale=stale.get(s))
        for s, t in sorted(latest.items(), key=lambda kv: source_label(kv[0]).casefold())
    )
    return healthy, failing


def assemble_digest(
    store: Store,
    day: date,
    settings: DigestSettings,
    topic_order: Sequence[str] = (),
    guidance: Mapping[str, Sequence[Milestone]] | None = None,
) -> Digest:
    """Read `day`'s alerts and the sources' health from the store (never from a source)."""
    zone = settings.timezone
    start, end = digest_window(day, settings.time, zone)
    healthy, failing = _health(store.health(), zone)
    destinations = tuple(
        DestinationLine(
            name=h.destination,
            failing=h.failing,
            last_delivered=_local(h.last_delivered, zone),
            pending=h.pending,
            retry_error=h.retry_error,
            failed=h.failed,
            last_failed_error=h.last_failed_error,
        )
        for h in store.outbox.health()
    )
    return Digest(
        day=day,
        timezone=zone,
        start=start,
        end=end,
        topics=tuple(_sections(store.alerts_between(start, end), zone, topic_order)),
        healthy=healthy,
        failing=failing,
        destinations=destinations,
        triage=tuple(
            (name, tuple(lines))
            for name in topic_order
            if (lines := triage_lines(store.triage.summary(name, end, recent=0)))
        ),
        calendar=_calendar(store, topic_order, guidance or {}, start, end),
    )


def _calendar(
    store: Store,
    topics: Sequence[str],
    guidance: Mapping[str, Sequence[Milestone]],
    start: datetime,
    end: datetime,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = {n: topic_calendar(store.engine, n, guidance.get(n, ()), end.date()) for n in topics}
    return tuple(
        (name, tuple(lines)) for name in topics if (lines := digest_lines(found[name], start, end))
    )
