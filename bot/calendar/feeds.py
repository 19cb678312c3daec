"""`GET /calendar/{topic}.ics` and `GET /calendar.ics` on the service: subscribed iCalendar feeds.

Calendar apps subscribe by URL and send no headers: off loopback the URL carries the token
(bot/service/url_token.py's UrlTokenGate: constant-time, never logged).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.calendar.ics import calendar_feed
from bot.calendar.read import guidance_of, topic_calendar
from bot.config import Settings
from bot.service.url_token import UrlTokenGate
from bot.topics import UnknownTopicError, find_topic
from state.status import StoredState
from watchers.model import Topic

__all__ = ["CalendarFeeds"]

_ICS = "text/calendar; charset=utf-8"


class CalendarFeeds:
    """Each topic's feed and one for all topics, built from stored state when asked."""

    def __init__(
        self,
        store: StoredState,
        topics: Sequence[Topic],
        settings: Settings,
        clock: Callable[[], datetime],
        gate: UrlTokenGate,
    ) -> None:
        self._store, self._topics, self._settings = store, list(topics), settings
        self._clock, self._gate = clock, gate

    def feed(self, topics: Sequence[Topic], name: str) -> bytes:
        """One feed holding every milestone of `topics`."""
        now = self._clock()
        found = [
            entry
            for topic in topics
            for entry in topic_calendar(
                self._store.engine, topic.name, guidance_of(self._settings, topic.name), now.date()
            )
        ]
        return calendar_feed(name, found, now)

    def topic_feed(self, name: str) -> bytes | None:
        """A topic's feed by its name, an alias or a trial id; None when unknown."""
        try:
            topic = find_topic(self._topics, name, self._store.snapshot)
        except UnknownTopicError:
            return None
        return self.feed([topic], f"{topic.name} · trialwatch")

    def routes(self) -> list[Route]:
        """The two feed routes, behind the URL token gate."""

        async def every(request: Request) -> Response:
            if (refused := self._gate.refused(request)) is not None:
                return refused
            body = await anyio.to_thread.run_sync(self.feed, self._topics, "trialwatch")
            return Response(body, media_type=_ICS)

        async def one(request: Request) -> Response:
            if (refused := self._gate.refused(request)) is not None:
                return refused
            body = await anyio.to_thread.run_sync(self.topic_feed, request.path_params["topic"])
            if body is None:
                return PlainTextResponse("unknown topic\n", status_code=404)
            return Response(body, media_type=_ICS)

        return [
            Route("/calendar.ics", every, methods=["GET"]),
            Route("/calendar/{topic}.ics", one, methods=["GET"]),
        ]
