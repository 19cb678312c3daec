"""The dashboard's routes on the service's HTTP server: `/` and `/topics/{name}`, read-only.

On a non-loopback `[server].host` every page needs `Authorization: Bearer <token>` with the
token from TRIALWATCH_DASHBOARD_TOKEN; without that variable the pages are refused (503).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.dashboard.page import index_page, topic_page
from state.status import StoredState
from watchers.model import Topic

__all__ = ["ALERTS_SHOWN", "Dashboard", "is_loopback", "render_topic"]

log = logging.getLogger(__name__)

# The alerts timeline shows the latest alerts; the page stays fast however many are stored.
ALERTS_SHOWN = 100
_UNCONFIGURED = (
    "The dashboard is served on a non-loopback address: set TRIALWATCH_DASHBOARD_TOKEN and "
    "send it as 'Authorization: Bearer <token>'.\n"
)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def render_topic(store: StoredState, topic: Topic, now: datetime) -> str:
    """One topic's page, from stored state only."""
    return topic_page(topic, store.status(topic.name, alerts=ALERTS_SHOWN), now=now)


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
        self._needs_token = not is_loopback(host)
        self._token = token

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
        if not self._needs_token:
            return None
        if not self._token:
            return PlainTextResponse(_UNCONFIGURED, status_code=503)
        given = request.headers.get("authorization", "")
        expected = f"Bearer {self._token}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        client = request.client.host if request.client else "?"
        log.warning("dashboard request refused status=401 client=%s", client)
        return PlainTextResponse(
            "missing or wrong bearer token\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    def index(self) -> str:
        now = self._clock()
        statuses = [(t, self._store.status(t.name, alerts=ALERTS_SHOWN)) for t in self._topics]
        return index_page(statuses, now=now)

    def topic(self, name: str) -> str | None:
        found = next((t for t in self._topics if t.name == name), None)
        return None if found is None else render_topic(self._store, found, self._clock())

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
            page = await anyio.to_thread.run_sync(self.topic, request.path_params["name"])
            if page is None:
                return PlainTextResponse("unknown topic\n", status_code=404)
            return HTMLResponse(page)

        return [
            Route("/", index, methods=["GET"]),
            Route("/topics/{name}", topic, methods=["GET"]),
        ]
