"""The dashboard's routes on the service's HTTP server: `/` and `/topics/{name}`, read-only.

`/topics/{name}` finds a topic by its name, an alias or a trial id, as `status` does
(bot/topics.py); an unknown name answers 404 with a page listing the topics.

On a non-loopback `[server].host` every page needs `Authorization: Bearer <token>` with the
token from TRIALWATCH_DASHBOARD_TOKEN; without that variable the pages are refused (503).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.dashboard.page import index_page, topic_page, unknown_topic_page
from bot.service.bearer_gate import BearerGate, is_loopback
from bot.topics import UnknownTopicError, find_topic
from state.status import StoredState
from state.triage import acknowledgements
from state.types import TopicStatus
from watchers.model import Topic

__all__ = ["ALERTS_SHOWN", "Dashboard", "is_loopback", "render_topic"]

log = logging.getLogger(__name__)

# The alerts timeline shows the latest alerts; the page stays fast however many are stored.
ALERTS_SHOWN = 100


def _status(store: StoredState, topic: Topic, now: datetime) -> TopicStatus:
    """The topic's trials, latest alerts and health, with its triage (snoozes, mutes) at `now`."""
    return store.status(topic.name, alerts=ALERTS_SHOWN, at=now)


def _acks(store: StoredState, statuses: list[TopicStatus], now: datetime) -> dict[int, Any]:
    ids = [a.id for status in statuses for a in status.recent_alerts]
    return acknowledgements(store.engine, ids, now)


def render_topic(store: StoredState, topic: Topic, now: datetime) -> str:
    """One topic's page, from stored state only."""
    status = _status(store, topic, now)
    return topic_page(topic, status, now=now, acks=_acks(store, [status], now))


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
    ) -> None:
        self._store, self._topics, self._clock = store, topics, clock
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

    def topic(self, name: str) -> tuple[int, str]:
        """(200, the topic's page) by its name, an alias or a trial id; else (404, the list)."""
        now = self._clock()
        try:
            found = find_topic(self._topics, name, self._store.snapshot)
        except UnknownTopicError:
            return 404, unknown_topic_page(name, self._topics, now=now)
        return 200, render_topic(self._store, found, now)

    def routes(self) -> list[Route]:
        """`GET /` and `GET /topics/{name}`."""

        async def index(request: Request) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            return HTMLResponse(await anyio.to_thread.run_sync(self.index))

        async def topic(request: Request) -> Response:
            refused = self._refused(request)
            if refused is not None:
                return refused
            code, page = await anyio.to_thread.run_sync(self.topic, request.path_params["name"])
            return HTMLResponse(page, status_code=code)

        return [
            Route("/", index, methods=["GET"]),
            Route("/topics/{name}", topic, methods=["GET"]),
        ]
