"""Stopping a poll at a safe point: a watcher's fetch can be abandoned, a store commit cannot."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from watchers.base import Watcher
from watchers.model import SourceResult, Topic
from watchers.net.fetch_threads import FETCH_THREADS

__all__ = ["PollAbandoned", "StoppableWatcher"]

# How often a waiting poll looks at the stop flag: well inside the 10 s shutdown budget.
_CHECK_EVERY = 0.1


class PollAbandoned(BaseException):  # a cancellation, like asyncio.CancelledError
    """The service is stopping: this poll's fetch was dropped and nothing was stored.

    A BaseException on purpose: `poll_once` records every `Exception` as a source failure,
    and a poll we walked away from says nothing about the source's health.
    """


class StoppableWatcher:
    """Wraps a watcher so that its fetch is abandoned as soon as `stop` is set.

    The fetch runs in one of the process's reused fetch threads. Watchers never touch the
    database (they only return a SourceResult), so dropping one mid-request loses nothing:
    the snapshot and the outbox are written only by the store commit that follows, in the
    caller's thread, which is never cut.
    """

    def __init__(self, inner: Watcher, stop: threading.Event) -> None:
        self.inner = inner
        self.stop = stop
        self.source = inner.source

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The inner watcher's result (or its error), or PollAbandoned once `stop` is set."""
        if self.stop.is_set():
            raise PollAbandoned(self.source, topic.name)
        running = FETCH_THREADS.run(
            lambda: self.inner.poll(topic, meta), f"fetch {self.source} {topic.name}"
        )
        while not running.wait(_CHECK_EVERY):
            if self.stop.is_set():
                raise PollAbandoned(self.source, topic.name)
        return running.result()
