"""A watcher's wrappers: stopping at a safe point (a fetch can be abandoned, a store commit
cannot) and no secret value in a source's error (it is stored, printed and posted to Slack)."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping

from watchers.base import Watcher
from watchers.model import SourceError, SourceResult, Topic
from watchers.net.fetch_threads import FETCH_THREADS
from watchers.text.redact import REDACTED, Redactor

# Redactor lives in watchers/text/redact.py (one home for every layer); re-exported here.
__all__ = ["REDACTED", "PollAbandoned", "RedactingWatcher", "Redactor", "StoppableWatcher"]

log = logging.getLogger(__name__)

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


class RedactingWatcher:
    """Wraps a watcher so the errors it raises carry no secret value.

    Servers echo requests back (a 400 repeating the query string, NCBI naming the api-key it
    counted against), and a watcher quotes what the server said. Http already drops query
    strings and `key=value` pairs; matching the values themselves also catches `"api-key": "…"`,
    a bare key in a text body, one spelled URL-, JSON- or base64-encoded, or one cut short.
    """

    def __init__(self, inner: Watcher, redact: Redactor) -> None:
        self.inner = inner
        self.redact = redact
        self.source = inner.source

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        """The inner watcher's result, or its error with every secret value redacted."""
        try:
            return self.inner.poll(topic, meta)
        except SourceError as exc:
            message = str(exc)
            clean = self.redact(message)
            if clean == message:
                raise
            scrubbed = copy.copy(exc)  # same class and `transient`, only the words change
            scrubbed.args = (clean,)
            # `from None`: the original, with the secret, must not ride along as the cause.
            raise scrubbed from None
        except Exception as exc:
            # A watcher bug whose message quotes a secret: the caller would store its text as
            # "internal error (...)", so hand it over already worded and redacted.
            message = f"{type(exc).__name__}: {exc}"
            clean = self.redact(message)
            if clean == message:
                raise
            log.error("unexpected error polling %s for %s: %s", self.source, topic.name, clean)
            raise SourceError(f"internal error ({clean})") from None
