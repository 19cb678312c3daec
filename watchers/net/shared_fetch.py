"""One conditional read of a URL, shared by every topic polled within a cache period.

A feed or a bulk report serves every topic from the same bytes: N topics cost one request,
one parse, and (after a failure) one error, not N.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

from watchers.model import SourceError
from watchers.net.http import Http

__all__ = ["SharedFetch", "SharedRead"]

T = TypeVar("T")


@dataclass(frozen=True)
class SharedRead(Generic[T]):
    """What a topic gets: the parsed content, or None when nothing is new for it."""

    parsed: T | None
    meta: dict[str, str]  # the ETag / Last-Modified entries to keep in the topic's poll meta


@dataclass(frozen=True)
class _Entry(Generic[T]):
    at: float
    meta: dict[str, str] = field(default_factory=dict)
    parsed: T | None = None  # None after a bare 304
    error: SourceError | None = None


class SharedFetch(Generic[T]):
    """Conditional GET of one URL, parsed once, cached for `cache_seconds` across topics."""

    def __init__(
        self,
        http: Http,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = url
        self._parse = parse
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._entry: _Entry[T] | None = None
        # Topics polled in parallel wait for the one request in flight.
        self._lock = threading.Lock()

    def read(self, held: Mapping[str, str]) -> SharedRead[T]:
        """The content for a topic holding the validators `held` (empty: read it in full)."""
        held = dict(held)
        with self._lock:
            entry = self._fresh(held) or self._fetch(held)
        if entry.error is not None:
            raise copy.copy(entry.error)  # same class and `transient`; not the shared instance
        if entry.parsed is None or (held and entry.meta == held):
            return SharedRead(None, entry.meta or held)  # this topic has seen this version
        return SharedRead(entry.parsed, entry.meta)

    def _fresh(self, held: dict[str, str]) -> _Entry[T] | None:
        entry = self._entry
        if entry is None or self._clock() - entry.at >= self._cache_seconds:
            return None
        if entry.error is not None or entry.parsed is not None:
            return entry  # do not hammer a source that just failed; content serves everyone
        # A bare 304 only tells topics holding the same validators that nothing changed.
        return entry if entry.meta == held else None

    def _fetch(self, held: dict[str, str]) -> _Entry[T]:
        now = self._clock()
        try:
            answer = self._http.get_conditional(self._url, held)
            if answer.response is None:
                previous = self._entry
                same = previous is not None and previous.meta == answer.meta
                entry = _Entry(
                    now, dict(answer.meta), previous.parsed if same and previous else None
                )
            else:
                entry = _Entry(now, dict(answer.meta), self._parse(answer.response))
        except SourceError as exc:
            entry = _Entry(now, error=exc)
        self._entry = entry
        return entry
