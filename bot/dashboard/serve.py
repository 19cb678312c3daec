"""The dashboard's routes on the service's HTTP server: `/` and `/topics/{name}`, read-only.

`/topics/{name}` finds a topic by its name, an alias or a trial id, as `status` does
(bot/topics.py); an unknown name answers 404 with a page listing the topics.

On a non-loopback `[server].host` every page needs `Authorization: Bearer <token>` with the
token from TRIALWATCH_DASHBOARD_TOKEN; without that variable the pages are refused (503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import anyio.to_thread
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.calendar.coming_up import coming_up_section
from bot.calendar.read import topic_calendar
from bot.config.milestones import Milestone
from bot.dashboard.filter_form import FILTER_PARAMS, filter_form
from bot.dashboard.page import index_page, topic_page, unknown_topic_page
from bot.read.answer_cache import AnswerCache, cached_routes
from bot.read.filters import FilterError, parse_filter
from bot.service.bearer_gate import BearerGate
from bot.topics import UnknownTopicError, find_topic
from state.alert_query import AlertFilter, alert_page
from state.alert_sources import alert_sources
from state.status import StoredState
from state.triage import acknowledgements
from state.types import TopicStatus
from watchers.model import Topic

__all__ = ["ALERTS_SHOWN", "Dashboard", "render_topic"]

log = logging.getLogger(__name__)

# The alerts timeline shows the latest alerts; the page stays fast however many are stored.
ALERTS_SHOWN = 100


def _status(store: StoredState, topic: Topic, now: datetime) -> TopicStatus:
    """The topic's trials, latest alerts and health, with its triage (snoozes, mutes) at `now`."""
    return store.status(topic.name, alerts=ALERTS_SHOWN, at=now)


def _acks(store: StoredState, statuses: list[TopicStatus], now: datetime) -> dict[int, Any]:
    ids = [a.id for status in statuses for a in status.recent_alerts]
    return acknowledgements(store.engine, ids, now)


def render_topic(
    store: StoredState,
    topic: Topic,
    now: datetime,
    query: Mapping[str, str] | None = None,
    guidance: Sequence[Milestone] = (),
) -> str:
    """One topic's page, from stored state only; with `query` (served), the alert filters
    form, and the alerts its filters match (newest first, counted honestly); its "Coming up"
    milestones from the registry and the team's `guidance` (its `[[topics.milestones]]`)."""
    status = _status(store, topic, now)
    today = now.date()
    coming = coming_up_section(topic_calendar(store.engine, topic.name, guidance, today), today)
    form, applied = Markup(""), {}
    if query is not None:
        given = {k: query[k] for k in FILTER_PARAMS if query.get(k)}
        error = None
        try:
            which = parse_filter(topic.name, now=now, **given)
        except FilterError as exc:
            error, which = str(exc), AlertFilter(topic.name)
        if which.narrowed:
            applied = given  # the "N more" line suggests the same filters
            page = alert_page(store.engine, which, limit=ALERTS_SHOWN)
            status = replace(status, recent_alerts=page.alerts, alert_count=page.total)
        trials = sorted({*topic.trials, *(t.observation.key for t in status.trials)})
        form = filter_form(given, sorted(alert_sources(store.engine, topic.name)), trials, error)
    acks = _acks(store, [status], now)
    return topic_page(
        topic, status, now=now, acks=acks, alert_filters=form, filters=applied, coming_up=coming
    )


class Dashboard:
    """Renders pages from the store; checks the bearer token when one is required."""

    def __init__(
        self,
        store: StoredState,
        topics: list[Topic],
        clock: Callable[[], datetime],
        *,
        host: str,
        token: str | None,
        guidance: Mapping[str, Sequence[Milestone]] | None = None,
    ) -> None:
        """`guidance`: each topic's `[[topics.milestones]]`, for its "Coming up" section."""
        self._store, self._topics, self._clock = store, topics, clock
        self._guidance = guidance or {}
        self.gate = BearerGate(host=host, token=token)  # the API shares it
        self._needs_token, self._token = self.gate.needs_token, token

    def startup_message(self, url: str) -> tuple[int, str]:
        """Where the dashboard is and who may read it, as (log level, message) for start-up."""
        if not self._needs_token:
            return logging.INFO, f"dashboard on {url}/ (loopback only: no token needed)"
        if self._token:
            return logging.INFO, (
                f"dashboard on {url}/ (off loopback: needs 'Authorization: Bearer <token>' with "
                "TRIALWATCH_DASHBOARD_TOKEN)"
            )
        return logging.WARNING, (
            f"dashboard on {url}/ listens off loopback without TRIALWATCH_DASHBOARD_TOKEN: "
            "its pages answer 503 until it is set (/healthz stays open to anyone who can connect)"
        )

    def _refused(self, request: Request) -> Response | None:
        return self.gate.refused(request)

    def index(self) -> str:
        now = self._clock()
        statuses = [(t, _status(self._store, t, now)) for t in self._topics]
        acks = _acks(self._store, [s for _, s in statuses], now)
        return index_page(statuses, now=now, acks=acks)

    def topic(self, name: str, query: Mapping[str, str] | None = None) -> tuple[int, str]:
        """(200, the topic's page) by its name, an alias or a trial id; else (404, the list)."""
        now = self._clock()
        try:
            found = find_topic(self._topics, name, self._store.snapshot)
        except UnknownTopicError:
            return 404, unknown_topic_page(name, self._topics, now=now)
        guidance = self._guidance.get(found.name, ())
        return 200, render_topic(self._store, found, now, query or {}, guidance)

    def routes(self) -> list[Route]:
        """`GET /` and `GET /topics/{name}`, kept while the data is unchanged."""

        async def index(request: Request) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            return HTMLResponse(await anyio.to_thread.run_sync(self.index))

        async def topic(request: Request) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            code, page = await anyio.to_thread.run_sync(
                self.topic, request.path_params["name"], request.query_params
            )
            return HTMLResponse(page, status_code=code)

        routes = [
            Route("/", index, methods=["GET"]),
            Route("/topics/{name}", topic, methods=["GET"]),
        ]
        return cached_routes(routes, AnswerCache(self._store.engine, self._clock))
