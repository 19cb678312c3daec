"""Reused daemon threads for fetches a caller may walk away from (a poll deadline, a shutdown).

Starting a thread per poll cost about as much CPU as the rest of an unchanged poll's
bookkeeping; a hand-over to a waiting thread costs a quarter of that. A fetch that hangs keeps
its thread (nothing can interrupt a name lookup); the next fetch gets another one, idle or new,
so a hung host never starves the others. Idle threads end after a while. (concurrent.futures'
pool would not do: it is bounded, so hung fetches would fill it, and it joins its threads at
interpreter exit, so a hung fetch would hold up a shutdown.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["FETCH_THREADS", "FetchThreads", "Handover"]

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
