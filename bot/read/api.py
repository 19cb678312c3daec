"""The read-only JSON API under /api/v1/ (described by bot/read/openapi.py).

Every answer carries `refreshed_at`, when a source last answered. The bearer rule is the
dashboard's (bot/service/bearer_gate.py). A failing store answers a plain 503 sentence: no
traceback, URL or password leaves the process (the error goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.read.answer_cache import AnswerCache, cached_routes
from bot.read.filters import FilterError, parse_cursor, parse_filter, parse_limit
from bot.read.openapi import OPENAPI
from bot.read.views import alert_view, iso, status_view, topic_view, trial_view
from bot.service.bearer_gate import BearerGate
from bot.topics import UnknownTopicError, find_topic
from state.alert_query import alert_page, last_refreshed
from state.status import CARD_ALERTS, StoredState
from watchers.model import Topic

__all__ = ["PAGE_ALERTS", "NotFound", "ReadApi"]

log = logging.getLogger(__name__)

PAGE_ALERTS = 50  # alerts per page unless `limit` says otherwise
UNAVAILABLE = "trialwatch could not read its database just now; the error is in its log."


class NotFound(LookupError):
    """No such topic or trial; the message names what was asked."""


class ReadApi:
    """Answers /api/v1/ from stored state only."""

    def __init__(
        self,
        store: StoredState,
        topics: list[Topic],
        clock: Callable[[], datetime],
        gate: BearerGate,
    ) -> None:
        self._store, self._topics, self._clock, self._gate = store, topics, clock, gate

    def _topic(self, name: str) -> Topic:
        try:
            return find_topic(self._topics, name, self._store.snapshot)
        except UnknownTopicError:
            raise NotFound(f"no topic, alias or trial id {name!r}") from None

    def _refreshed(self, topic: str | None) -> str | None:
        with self._store.engine.connect() as connection:
            return iso(last_refreshed(connection, topic))

    def topics(self) -> dict[str, Any]:
        """Every configured topic."""
        return {
            "refreshed_at": self._refreshed(None),
            "topics": [topic_view(t) for t in self._topics],
        }

    def status(self, name: str) -> dict[str, Any]:
        """One topic's status, most important alerts first."""
        topic = self._topic(name)
        now = self._clock()
        status = self._store.status(topic.name, alerts=CARD_ALERTS)
        return {
            "refreshed_at": self._refreshed(topic.name),
            **status_view(topic, status, status.recent_alerts, now),
        }

    def alerts(self, name: str | None, query: Mapping[str, str | None]) -> dict[str, Any]:
        """Alerts of a topic (None: every topic), filtered, newest first, one page; `query`:
        since, severity, source, trial, text, cursor, limit as typed."""
        topic = None if name is None else self._topic(name).name
        which = parse_filter(
            topic,
            now=self._clock(),
            since=query.get("since"),
            severity=query.get("severity"),
            source=query.get("source"),
            trial=query.get("trial"),
            text=query.get("text"),
        )
        limit = parse_limit(query.get("limit"), PAGE_ALERTS)
        page = alert_page(
            self._store.engine, which, limit=limit, after=parse_cursor(query.get("cursor"))
        )
        return {
            "refreshed_at": self._refreshed(topic),
            "alerts": [alert_view(a) for a in page.alerts],
            "total": page.total,
            "next_cursor": None if page.cursor is None else str(page.cursor),
        }

    def trial(self, wanted: str) -> dict[str, Any]:
        """One trial's facts and timeline, from the topic that watches it."""
        topic = self._topic(wanted)
        status = self._store.status(topic.name, alerts=0)
        for stored in status.trials:
            if stored.observation.key.casefold() == wanted.strip().casefold():
                return {
                    "refreshed_at": self._refreshed(topic.name),
                    "trial": trial_view(stored, status, self._clock()),
                }
        raise NotFound(f"no stored trial {wanted!r}")

    def _route(self, path: str, read: Callable[[Request], dict[str, Any]]) -> Route:
        async def endpoint(request: Request) -> Response:
            refused = self._gate.refused(request)
            if refused is not None:
                return JSONResponse(
                    {"error": bytes(refused.body).decode().strip()},
                    status_code=refused.status_code,
                    headers={k: v for k, v in refused.headers.items() if k == "www-authenticate"},
                )
            return await anyio.to_thread.run_sync(self._answer, read, request)

        return Route(path, endpoint, methods=["GET"])

    def _answer(self, read: Callable[[Request], dict[str, Any]], request: Request) -> Response:
        try:
            return JSONResponse(read(request))
        except (FilterError, NotFound) as exc:
            code = 400 if isinstance(exc, FilterError) else 404
            return JSONResponse({"error": str(exc)}, status_code=code)
        except Exception:  # the database is down or broken: one sentence, no traceback
            log.exception("api %s failed", request.url.path)
            return JSONResponse({"error": UNAVAILABLE}, status_code=503)

    def routes(self) -> list[Route]:
        """The API's GET routes and its OpenAPI description, kept while the data is unchanged."""

        async def openapi(request: Request) -> Response:
            refused = self._gate.refused(request)
            return refused or JSONResponse(OPENAPI)

        routes = [
            Route("/api/v1/openapi.json", openapi, methods=["GET"]),
            self._route("/api/v1/topics", lambda _: self.topics()),
            self._route("/api/v1/topics/{name}", lambda r: self.status(r.path_params["name"])),
            self._route(
                "/api/v1/topics/{name}/alerts",
                lambda r: self.alerts(r.path_params["name"], r.query_params),
            ),
            self._route("/api/v1/trials/{id}", lambda r: self.trial(r.path_params["id"])),
        ]
        return cached_routes(routes, AnswerCache(self._store.engine, self._clock))
