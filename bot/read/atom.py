"""A topic's alerts as an Atom feed (`/feeds/{topic}.atom?severity=high`), built with feedgen.

The latest FEED_ALERTS alerts only, however many are stored. Feed readers cannot send headers,
so the gate is the subscribed-URL token (bot/service/url_token.py); the feed's own links never
carry it. Source text is cleaned of what XML 1.0 cannot hold, and feedgen escapes the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

import anyio.to_thread
from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.read.answer_cache import AnswerCache, cached_routes
from bot.read.filters import FilterError, parse_filter
from bot.read.views import alert_view
from bot.service.url_token import UrlTokenGate
from bot.topics import UnknownTopicError, find_topic
from state.alert_query import AlertFilter, alert_page, last_refreshed
from state.status import StoredState
from state.types import Alert
from watchers.model import Topic

__all__ = ["FEED_ALERTS", "AtomFeeds", "atom_feed"]

log = logging.getLogger(__name__)

FEED_ALERTS = 100
# Control characters XML 1.0 forbids (tab, LF and CR are allowed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def _summary(alert: Alert) -> str:
    view = alert_view(alert)
    parts = [f"{view['severity']} · {view['kind']} · {view['source_label']}", *view["changes"]]
    parts += [p for p in (view["detail"], view["claim"], view["excerpt"]) if p]
    return "\n".join(parts)


def atom_feed(
    topic: Topic, alerts: list[Alert], *, base: str, updated: datetime, which: AlertFilter
) -> bytes:
    """The feed document: one entry per alert, newest first, every required Atom element."""
    feed = FeedGenerator()
    level = f" ({which.severity.value} or louder)" if which.severity else ""
    path = quote(topic.name, safe="")
    feed.id(f"{base}/feeds/{path}.atom")
    feed.title(_xml(f"trialwatch: {topic.name}{level}"))
    feed.author({"name": "trialwatch"})
    feed.link(href=f"{base}/topics/{path}", rel="alternate")
    feed.updated(max([updated, *(a.created_at for a in alerts[:1])]))
    for alert in reversed(alerts):  # feedgen puts each added entry first
        view = alert_view(alert)
        entry = feed.add_entry()
        entry.id(f"{base}/alerts/{alert.id}")
        entry.title(_xml(f"[{view['severity']}] {view['title']}"))
        entry.updated(alert.created_at)
        entry.published(alert.created_at)
        entry.summary(_xml(_summary(alert)))
        entry.category(term=view["severity"])
        if view["url"]:
            entry.link(href=_xml(view["url"]), rel="alternate")
    return bytes(feed.atom_str(pretty=False))


class AtomFeeds:
    """Serves /feeds/{topic}.atom from stored state, behind the subscribed-URL token."""

    def __init__(
        self,
        store: StoredState,
        topics: list[Topic],
        clock: Callable[[], datetime],
        gate: UrlTokenGate,
    ) -> None:
        self._store, self._topics, self._clock, self._gate = store, topics, clock, gate

    def answer(self, name: str, severity: str | None, base: str) -> Response:
        """The feed, or a plain 400/404/503 sentence."""
        now = self._clock()
        try:
            topic = find_topic(self._topics, name, self._store.snapshot)
            which = parse_filter(topic.name, now=now, severity=severity)
            page = alert_page(self._store.engine, which, limit=FEED_ALERTS)
            with self._store.engine.connect() as connection:
                refreshed = last_refreshed(connection, topic.name)
        except UnknownTopicError:
            return PlainTextResponse(f"no topic {name!r}\n", status_code=404)
        except FilterError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        except Exception:  # the database is down or broken: one sentence, no traceback
            log.exception("feed %s failed", name)
            return PlainTextResponse("trialwatch could not read its database\n", status_code=503)
        body = atom_feed(topic, list(page.alerts), base=base, updated=refreshed or now, which=which)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    def routes(self) -> list[Route]:
        """`GET /feeds/{name}.atom`, kept while the data is unchanged."""

        async def feed(request: Request) -> Response:
            refused = self._gate.refused(request)
            if refused is not None:
                return refused
            base = str(request.base_url).rstrip("/")
            return await anyio.to_thread.run_sync(
                self.answer,
                request.path_params["name"],
                request.query_params.get("severity"),
                base,
            )

        routes = [Route("/feeds/{name}.atom", feed, methods=["GET"])]
        return cached_routes(routes, AnswerCache(self._store.engine, self._clock))
