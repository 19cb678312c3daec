"""Read answers (dashboard pages, JSON, feeds) kept while the database is unchanged.

Twenty people may ask the same page at once and the data changes once per poll: an answer is
kept per (URL, credentials) with the database generation it was made at, and given again only
while the generation is the same and for at most ANSWER_TTL of the service's clock (pages show
the time, triage and `since=7d` move with it). So an answer is never older than the data.

The generation is state/status.py's `DataGeneration`: a counter that moves whenever the
database's data stamp does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from state.status import TRIAGE_TTL, DataGeneration

__all__ = ["ANSWER_TTL", "AnswerCache", "cached_routes"]

log = logging.getLogger(__name__)

# As the status card's triage: times are shown to the minute; a write ends it at once.
ANSWER_TTL = TRIAGE_TTL


@dataclass(frozen=True)
class _Kept:
    generation: int
    at: datetime
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, headers=dict(self.headers))


class AnswerCache:
    """Answers by key, each given again only within its generation and ANSWER_TTL."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], size: int = 512) -> None:
        self._generation, self._clock, self.size = DataGeneration(engine), clock, size
        self._kept: dict[Hashable, _Kept] = {}
        self._lock = threading.Lock()

    def look(self, key: Hashable) -> tuple[int | None, datetime, Response | None]:
        """(generation, now, the kept answer if still good); generation None: do not keep."""
        now = self._clock()
        try:
            generation = self._generation.current()
        except Exception:  # the database is down: the endpoint answers its own 503
            log.debug("no data stamp", exc_info=True)
            return None, now, None
        with self._lock:
            kept = self._kept.get(key)
        good = (
            kept is not None
            and kept.generation == generation
            and kept.at <= now < kept.at + ANSWER_TTL
        )
        return generation, now, kept.response() if good and kept else None

    def keep(self, key: Hashable, generation: int, now: datetime, response: Response) -> None:
        """Keep `response` (not a server error: the next request retries those)."""
        if response.status_code >= 500 or not hasattr(response, "body"):
            return
        kept = _Kept(generation, now, response.status_code, bytes(response.body),
                     tuple(response.headers.items()))  # fmt: skip
        with self._lock:
            if len(self._kept) >= self.size and key not in self._kept:
                self._kept.clear()  # many distinct URLs: a re-render each, never a stale one
            self._kept[key] = kept


def cached_routes(routes: list[Route], cache: AnswerCache) -> list[Route]:
    """`routes` answering from `cache` while the data is unchanged. The key holds the whole
    URL and the credentials, so a refused request is never given an allowed one's answer."""

    # One request per key makes a missing answer; the others arriving meanwhile wait for it
    # rather than all rendering the same page at once (the event loop's thread only).
    making: dict[Hashable, anyio.Lock] = {}

    def wrap(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def answer(request: Request) -> Response:
            key = (str(request.url), request.headers.get("authorization"))
            generation, now, kept = await anyio.to_thread.run_sync(cache.look, key)
            if kept is not None:
                return kept
            if len(making) >= cache.size and key not in making:
                making.clear()  # a cleared lock only lets two requests render at once
            async with making.setdefault(key, anyio.Lock()):
                generation, now, kept = await anyio.to_thread.run_sync(cache.look, key)
                if kept is not None:
                    return kept
                response: Response = await endpoint(request)
                if generation is not None:
                    cache.keep(key, generation, now, response)
            return response

        return answer

    return [Route(r.path, wrap(r.endpoint), methods=list(r.methods or ())) for r in routes]
