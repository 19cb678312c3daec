"""A poll's total time budget: one deadline over every request, retry and page of a poll."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from watchers.base import Watcher
from watchers.model import FetchError, SourceResult, Topic
from watchers.net.fetch_threads import FETCH_THREADS

if TYPE_CHECKING:  # the config reads DEFAULT_POLL_DEADLINE: `--help` must not load httpx
    from watchers.net.http import Http

__all__ = ["DEFAULT_POLL_DEADLINE", "DeadlineWatcher"]

DEFAULT_POLL_DEADLINE = 120.0


class DeadlineWatcher:
    """Wraps a watcher so its poll fails as a timeout once `seconds` have passed.

    Http enforces the budget between bytes, before each retry and each page, which gives the
    clear error. What Http cannot interrupt (a name lookup that hangs, response headers
    trickled a byte at a time) is bounded here: the poll runs in one of the process's reused
    fetch threads (watchers/net/fetch_threads.py), and the caller stops waiting a moment after the
    deadline. An abandoned fetch holds nothing (watchers never touch the database) and its next
    Http call fails at once, the budget being spent.
    """

    def __init__(self, inner: Watcher, http: Http, seconds: float = DEFAULT_POLL_DEADLINE):
        self.inner = inner
        self.source = inner.source
        self._http = http
        self._seconds = seconds
        # Long enough for Http's own, more precise error to come first.
        self._grace = min(2.0, max(0.05, seconds * 0.05))

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The inner watcher's result or error, or a FetchError once the deadline has passed."""

        def fetch() -> SourceResult:
            with self._http.deadline(self._seconds):
                return self.inner.poll(topic, meta)

        running = FETCH_THREADS.run(fetch, f"poll {self.source} {topic.name}")
        if not running.wait(self._seconds + self._grace):
            raise FetchError(
                f"{self.source} timed out: no complete answer within the poll deadline of "
                f"{self._seconds:g} s"
            )
        return running.result()
