"""The composition root: builds the store, HTTP client, watchers and deliverers from config."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import httpx

from bot.config import LoadedConfig, Settings
from bot.destinations.console import ConsoleDestination
from bot.destinations.flush import DeliveryLoop
from bot.destinations.outlet import DeliveryReport, Destination
from bot.polling.fetch import DeadlineWatcher, PollAbandoned, RedactingWatcher, StoppableWatcher
from bot.polling.pipeline import PollSummary, poll_once
from bot.polling.pool import run_lanes
from bot.polling.sources import build_watchers, host_intervals, source_intervals
from bot.read_only import mark_quiet, quiet_hours, utc_now
from bot.topics import UnknownTopicError, find_topic, topics_from_settings
from state.outbox import DestinationHealth
from state.store import Destinations, Route, Routes, Store
from state.types import Severity, TopicStatus
from watchers.base import Watcher
from watchers.model import Topic
from watchers.net.http import Http, build_client
from watchers.text.redact import Redactor

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.polling.history_import import HistoryImport, ImportOutcome
    from bot.slack.triage.actions import ClickHandler
    from bot.slack.triage.gate import SlackTriage

__all__ = [
    "App",
    "CheckReport",
    "UnknownTopicError",
    "open_app",
    "quiet_hours",
    "topics_from_settings",
]

Clock = Callable[[], datetime]

log = logging.getLogger(__name__)


# Besides the polls running in parallel: /status reads (bot/service/read_gate.py, 4), the
# outbox loop, /healthz, the dashboard and a poll's nested read of registry history.
_CONNECTIONS_BESIDES_POLLS = 10


def open_store(settings: Settings, *, migrate: bool = True, routes: Routes | None = None) -> Store:
    """The configured store; pending migrations applied (migrate=False: refused); a
    connection pool as large as the service's threads that use it at once; `routes`: where
    each topic's alerts go."""
    return Store.open(
        settings.storage.url,
        failures_before_alert=settings.health.failures_before_alert,
        retention_days=settings.storage.retention_days,
        max_per_poll=settings.alerts.max_per_poll,
        migrate=migrate,
        connections=settings.http.max_parallel + _CONNECTIONS_BESIDES_POLLS,
        routes=routes,
    )


def _stdout_write(text: str) -> None:
    # Looked up at each write so a redirected stdout (tests, pipes) is honoured.
    sys.stdout.write(text)


@dataclass
class CheckReport:
    """What one `check` run did."""

    polls: list[PollSummary] = field(default_factory=list)
    deliveries: list[DeliveryReport] = field(default_factory=list)
    history: list[ImportOutcome] = field(default_factory=list)


@dataclass
class App:
    """Everything a command needs, built once from the configuration."""

    config: LoadedConfig
    store: Store
    watchers: list[Watcher]
    topics: list[Topic]
    deliverers: list[DeliveryLoop]
    clock: Clock
    # The registry-history import ([sources.clinicaltrials] history), None when off.
    history_import: HistoryImport | None = None
    # Clicks on the Slack alerts' buttons (acknowledge, snooze, mute), None without Slack.
    clicks: ClickHandler | None = None
    # One outbox flush at a time in this process: the service flushes after every poll and
    # every minute, and two flushes reading the same pending rows would post them twice.
    _deliver_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def uses_slack(self) -> bool:
        return any(d.destination == "slack" for d in self.deliverers)

    def destinations_for(self, topic: Topic) -> Destinations:
        """Where a topic's new alerts go (the store's routes, fixed at start-up)."""
        return self.store.routes.of(topic.name)

    def destination_health(self) -> list[DestinationHealth]:
        """How each destination is taking alerts (configured ones listed even when idle)."""
        health = self.store.outbox.health([d.destination for d in self.deliverers])
        return self._with_quiet_hours(health)

    def topic_status(self, topic: str) -> TopicStatus:
        """A topic's stored status, its destinations marked when in quiet hours now."""
        status = self.store.status(topic, at=self.clock())  # with its triage now
        return replace(status, destinations=tuple(self._with_quiet_hours(status.destinations)))

    def _with_quiet_hours(self, health: Iterable[DestinationHealth]) -> list[DestinationHealth]:
        quiet = {d.destination: d.quiet for d in self.deliverers if d.quiet is not None}
        return mark_quiet(health, quiet, self.clock())

    def resolve_topic(self, name: str) -> Topic:
        """A topic by its name, an alias or a trial id (case-insensitive)."""
        return find_topic(self.topics, name, self.store.snapshot)

    def poll_all(self, on_poll: Callable[[PollSummary], None] | None = None) -> list[PollSummary]:
        """Poll every enabled source for every topic once; a failing source never stops others.

        Sources run in parallel (at most `[http] max_parallel`), each source's topics in turn;
        `on_poll` sees each poll as it ends, the result lists them topic by topic.
        """
        width = len(self.watchers)
        lanes = [
            [
                (t * width + w, partial(self._poll_pair, watcher, topic))
                for t, topic in enumerate(self.topics)
            ]
            for w, watcher in enumerate(self.watchers)
        ]
        return run_lanes(lanes, self.config.settings.http.max_parallel, on_poll)

    def _poll_pair(self, watcher: Watcher, topic: Topic) -> PollSummary:
        return poll_once(watcher, topic, self.store, self.clock)

    def poll_source(self, source: str, stop: threading.Event | None = None) -> list[PollSummary]:
        """Poll one source for every topic, then flush the outbox; stops early once `stop` is set.

        A poll cut short by `stop` is dropped before anything is stored (not a source failure);
        one already committing finishes, and its alerts stay in the outbox for the next flush.
        """
        watcher = next((w for w in self.watchers if w.source == source), None)
        if watcher is None:
            raise KeyError(f"no enabled watcher for source {source!r}")
        stop = stop or threading.Event()
        stoppable = StoppableWatcher(watcher, stop)
        # Another `trialwatch run` on the same database may have just polled this pair: half an
        # interval apart counts as "just", so two processes share the work instead of doubling it.
        interval = self._intervals.get(source)
        min_gap = timedelta(seconds=interval / 2) if interval else None
        summaries = []
        for topic in self.topics:
            if stop.is_set():
                break
            try:
                summaries.append(
                    poll_once(stoppable, topic, self.store, self.clock, min_gap=min_gap)
                )
            except PollAbandoned:
                log.info("poll source=%s topic=%s abandoned: shutting down", source, topic.name)
                break
        if not stop.is_set():
            self.deliver()
        return summaries

    @cached_property
    def _intervals(self) -> dict[str, float]:
        # Fixed by the configuration: worked out once, not on every poll's route.
        return source_intervals(self.config.settings)

    def deliver(self) -> list[DeliveryReport]:
        """Drain the outbox to every destination; one that breaks never stops the others."""
        with self._deliver_lock:
            reports = []
            for loop in self.deliverers:
                try:
                    reports.append(loop.flush())
                except Exception as exc:  # e.g. the database went away mid-flush
                    log.exception("delivery to %s stopped", loop.destination)
                    reports.append(
                        DeliveryReport(loop.destination, errors=[f"{type(exc).__name__}"])
                    )
            return reports

    def check(self, on_poll: Callable[[PollSummary], None] | None = None) -> CheckReport:
        """Poll everything once, prune, deliver; then import registry history (never alerts)."""
        polls = self.poll_all(on_poll)
        self.store.prune(self.clock())
        deliveries = self.deliver()  # alerts first: the history import must not delay them
        return CheckReport(polls=polls, deliveries=deliveries, history=self.import_history())

    def import_history(self) -> list[ImportOutcome]:
        """Fetch the registry versions the watched trials lack (best effort, own health)."""
        if self.history_import is None:
            return []
        return self.history_import.run(self.topics, self.store)


def _routes(settings: Settings, topics: Iterable[Topic], *, slack: bool) -> Routes:
    """Where each topic's new alerts go: Slack (its channel or the default), every [[notify]]
    entry that takes the topic (from its minimum severity on), else the console."""

    def of(topic: Topic | None) -> Destinations:
        routes: dict[str, Route] = {}
        if slack:
            channel = topic.slack_channel if topic is not None else None
            routes["slack"] = Route(channel or settings.slack.channel)
        for entry in settings.notify:
            if not entry.topics or (topic is not None and topic.name in entry.topics):
                routes[entry.name] = Route(min_severity=Severity(entry.min_severity))
        if not slack and not settings.notify:
            routes["console"] = Route()
        return routes

    return Routes(by_topic={topic.name: of(topic) for topic in topics}, default=of(None))


def _destinations(
    config: LoadedConfig,
    store: Store,
    slack_client: WebClient | None,
    write: Callable[[str], None],
    slack_triage: SlackTriage | None = None,
) -> list[Destination]:
    """Slack (when a token or client is given), each [[notify]] entry, else the console."""
    settings, secrets = config.settings, config.secrets
    found: list[Destination] = []
    if slack_client is not None:
        from bot.slack.delivery.destination import SlackDestination

        found.append(
            SlackDestination(
                slack_client,
                store.outbox,
                default_channel=settings.slack.channel,
                triage=slack_triage,
            )
        )
    redact = Redactor(secrets.values())
    if settings.notify:
        from bot.destinations.notify.destination import AppriseDestination
    for entry in settings.notify:
        url, missing = entry.url, "no URL configured"
        if entry.url_env:
            secret = secrets.notify_url(entry.url_env)
            url = secret.get_secret_value() if secret else None
            missing = f"{entry.url_env} is not set"
        found.append(AppriseDestination(entry.name, url, redact=redact, missing=missing))
    return found or [ConsoleDestination(write)]


@contextmanager
def open_app(
    config: LoadedConfig,
    *,
    clock: Clock = utc_now,
    http_client: httpx.Client | None = None,
    slack_client: WebClient | None = None,
    write: Callable[[str], None] | None = None,
    migrate: bool = True,
) -> Iterator[App]:
    """Build the App and close what it opened when done.

    `migrate`: apply pending schema migrations (False, `run --no-migrate`: refuse to start
    with SchemaOutOfDateError instead).
    """
    settings, secrets = config.settings, config.secrets
    if slack_client is None and secrets.slack_bot_token is not None:
        slack_client = _build_slack_client(
            secrets.slack_bot_token.get_secret_value(), settings.slack.api_url
        )
    topics = topics_from_settings(settings)
    routes = _routes(settings, topics, slack=slack_client is not None)
    store = open_store(settings, migrate=migrate, routes=routes)
    client = http_client or build_client(
        timeout=settings.http.timeout, parallel=settings.http.max_parallel
    )
    http = Http(
        client,
        min_interval=settings.http.min_interval,
        host_intervals=host_intervals(settings.http),
        max_retries=settings.http.max_retries,
        backoff=settings.http.backoff,
        max_body_bytes=int(settings.http.max_body_mb * 1024 * 1024),
    )
    redactor = Redactor(secrets.values())
    # Snooze and mute apply to Slack, where they are clicked (bot/slack/triage/).
    slack_triage = _slack_triage(store, clock) if slack_client is not None else None
    destinations = _destinations(config, store, slack_client, write or _stdout_write, slack_triage)
    quiet = quiet_hours(settings)
    deliverers = [
        DeliveryLoop(d, store.outbox, clock, quiet=quiet.get(d.name)) for d in destinations
    ]
    try:
        yield App(
            config=config,
            store=store,
            watchers=[
                RedactingWatcher(
                    DeadlineWatcher(watcher, http, settings.http.poll_deadline), redactor
                )
                for watcher in build_watchers(settings, secrets, http, clock)
            ],
            topics=topics,
            deliverers=deliverers,
            clock=clock,
            history_import=_history_import(settings, http, store, clock),
            clicks=_clicks(store, slack_triage, slack_client, clock),
        )
    finally:
        if http_client is None:
            client.close()
        store.close()


def _build_slack_client(token: str, api_url: str, **options: Any) -> WebClient:
    """The Slack Web API client (bot/slack/delivery/client.py); Slack's SDK is imported
    only when a bot token is set: `check` without Slack never loads it."""
    from bot.slack.delivery.client import build_slack_client

    return build_slack_client(token, api_url, **options)


def _slack_triage(store: Store, clock: Clock) -> SlackTriage:
    from bot.slack.triage.gate import SlackTriage

    return SlackTriage(store.triage, clock)


def _clicks(
    store: Store, triage: SlackTriage | None, slack_client: WebClient | None, clock: Clock
) -> ClickHandler | None:
    """Button clicks are answered where Slack delivers (with its triage), else not at all."""
    if triage is None:
        return None
    from bot.slack.triage.actions import ClickHandler

    return ClickHandler(store.triage, triage, slack_client, clock)


def _history_import(
    settings: Settings, http: Http, store: Store, clock: Clock
) -> HistoryImport | None:
    """The registry-history import, when ClinicalTrials.gov is watched and history is on."""
    section = settings.sources.clinicaltrials
    if section is None or not section.enabled or not section.history:
        return None
    from bot.polling.history_import import HistoryImport, ImportLimits  # only when it runs
    from watchers.ctgov.history import HistoryClient

    limits = ImportLimits(
        deadline=section.history_deadline,
        request_deadline=min(section.history_request_deadline, section.history_deadline),
        max_versions=section.history_max_versions,
        max_listed=section.history_max_listed,
    )
    return HistoryImport(HistoryClient(http, section.history_base), store.history, clock, limits)
