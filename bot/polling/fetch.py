"""A poll's fetch: the watcher wrapped (a deadline, a stop at shutdown, no secret in its
errors) and run in reused fetch threads that a poll can walk away from.

The wrappers, outermost first as bot/app.py builds them: StoppableWatcher (a fetch can be
abandoned when the service stops, a store commit cannot), RedactingWatcher (an error is stored,
printed and posted to Slack), DeadlineWatcher (one wall-clock bound over the whole poll).

Starting a thread per poll cost about as much CPU as the rest of an unchanged poll's
bookkeeping; a hand-over to a waiting thread costs a quarter of that. A fetch that hangs keeps
its thread (nothing can interrupt a name lookup); the next fetch gets another one, idle or new,
so a hung host never starves the others. Idle threads end after a while. (concurrent.futures'
pool would not do: it is bounded, so hung fetches would fill it, and it joins its threads at
interpreter exit, so a hung fetch would hold up a shutdown.)
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from watchers.base import Watcher
from watchers.model import FetchError, SourceError, SourceResult, Topic
from watchers.text.redact import Redactor

if TYPE_CHECKING:  # the config reads DEFAULT_POLL_DEADLINE: `--help` must not load httpx
    from watchers.net.http import Http

__all__ = [
    "DEFAULT_POLL_DEADLINE",
    "FETCH_THREADS",
    "DeadlineWatcher",
    "FetchThreads",
    "Handover",
    "PollAbandoned",
    "RedactingWatcher",
    "StoppableWatcher",
]

log = logging.getLogger(__name__)

DEFAULT_POLL_DEADLINE = 120.0
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


class DeadlineWatcher:
    """Wraps a watcher so its poll fails as a timeout once `seconds` have passed.

    Http enforces the budget between bytes, before each retry and each page, which gives the
    clear error. What Http cannot interrupt (a name lookup that hangs, response headers
    trickled a byte at a time) is bounded here: the poll runs in one of the process's reused
    fetch threads (below), and the caller stops waiting a moment after the deadline. An
    abandoned fetch holds nothing (watchers never touch the database) and its next Http call
    fails at once, the budget being spent.
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


# The reused fetch threads.

T = TypeVar("T")

# An idle thread waits this long for its next fetch before it ends.
_IDLE_SECONDS = 30.0


class Handover(Generic[T]):
    """A call running in a fetch thread: wait for it (or stop waiting), then take its result."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._outcome: T | BaseException | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """True once the call has ended (returned or raised)."""
        return self._done.wait(timeout)

    def result(self) -> T:
        """The call's return value, or its exception raised here (call after `wait`)."""
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]  # T itself may include None

    def _settle(self, call: Callable[[], T]) -> None:
        try:
            self._outcome = call()
        except BaseException as exc:  # handed over to the caller's thread, which decides
            self._outcome = exc


class FetchThreads:
    """A pool of daemon threads that grows when all are busy and shrinks when they idle."""

    def __init__(self, idle_seconds: float = _IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def run(self, call: Callable[[], T], name: str) -> Handover[T]:
        """Start `call` in an idle thread (or a new one) named `name`; never blocks."""
        handover: Handover[T] = Handover()
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self)
        worker.inbox.put((call, handover, name))
        return handover

    def idle_threads(self) -> int:
        """How many threads wait for work (tests; a hung fetch's thread is not one)."""
        with self._lock:
            return len(self._idle)

    def _rest(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def _retire(self, worker: _Worker) -> bool:
        """True if `worker` may end: it is idle and nobody just handed it a fetch."""
        with self._lock:
            if worker in self._idle and worker.inbox.empty():
                self._idle.remove(worker)
                return True
            return False


Work = tuple[Callable[[], Any], Handover[Any], str]


class _Worker:
    def __init__(self, pool: FetchThreads) -> None:
        self.pool = pool
        self.inbox: queue.SimpleQueue[Work] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="fetch", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                call, handover, name = self.inbox.get(timeout=self.pool._idle_seconds)
            except queue.Empty:
                if self.pool._retire(self):
                    return
                continue  # picked just now: its fetch is on the way
            self.thread.name = name
            handover._settle(call)
            self.thread.name = "fetch"
            # Back among the idle before the caller wakes, so a poll that follows at once
            # reuses this thread instead of starting another.
            self.pool._rest(self)
            handover._done.set()


# One pool per process: every poll's fetch, whichever wrapper asks (deadline, shutdown).
FETCH_THREADS = FetchThreads()
