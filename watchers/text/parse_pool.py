"""Feed bodies parsed in worker processes when many arrive at once (a cold cycle); else here.

When hundreds of feeds change, feedparser is most of a cycle's CPU and one process's GIL
bounds it. Once `threshold` bodies arrive within `window` seconds, the next ones go to a
process pool on the machine's other cores; a cycle with fewer changed feeds starts nothing.
Workers come from a `forkserver` (a fork of a process whose poll threads hold locks can
deadlock) that imports the caller's main script once, which the console script guards
(`python -m bot.cli` is never re-imported: multiprocessing skips `*.__main__` modules), and
this module. A worker runs the same `parse_feed`: the same items, the same ParseError. A
worker that dies fails the feeds it held, clearly and transiently, and the next body gets a
new pool; a parse still running after `timeout` (a parse takes milliseconds) is stopped in
the worker by an alarm, so a hostile body cannot hold a worker, and the bodies queued behind
it, for ever.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from watchers.model import ParseError, SourceError
from watchers.text.feedparse import FeedItem, parse_feed

__all__ = ["PARSE_POOL", "ParsePool"]

Parse = Callable[[bytes, str, str | None], list[FeedItem]]

# 32 bodies within 10 s is a cold or bulk cycle; a few changed feeds stay in process.
THRESHOLD = 32
WINDOW_SECONDS = 10.0
# A worker still parsing one body after this stops it (feedparser reads a capped body in ms).
TIMEOUT_SECONDS = 60.0
# A pool nobody used for this long is shut down by the next parse (a service between cycles).
IDLE_SECONDS = 300.0


def _default_workers() -> int:
    # One core stays with the polls (HTTP, matching, the store) that feed the workers.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def _parse_feed(body: bytes, where: str, base_url: str | None) -> list[FeedItem]:
    return parse_feed(body, where=where, base_url=base_url)


class _TooLong(Exception):
    pass


def _raise_too_long(_signum: int, _frame: object) -> None:
    raise _TooLong


def _bounded(
    parse: Parse, timeout: float, body: bytes, where: str, base_url: str | None
) -> list[FeedItem]:
    """In a worker (its main thread): `parse`, stopped by an alarm after `timeout` seconds."""
    signal.signal(signal.SIGALRM, _raise_too_long)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return parse(body, where, base_url)
    except _TooLong:
        raise ParseError(f"{where}: reading the feed took longer than {timeout:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class ParsePool:
    """parse(body) -> items: in this process, or in a worker when many bodies come at once."""

    def __init__(
        self,
        *,
        threshold: int = THRESHOLD,
        window: float = WINDOW_SECONDS,
        workers: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        parse: Parse = _parse_feed,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._threshold = threshold
        self._window = window
        self.workers = _default_workers() if workers is None else workers
        self._clock = clock
        self._timeout = timeout
        self._parse = parse  # a module-level function: workers import it by name
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()  # when the bodies of the last `window` arrived
        self._executor: ProcessPoolExecutor | None = None
        self._last_used = 0.0
        self.started = 0  # pools started (a broken pool is replaced by a new one)

    def parse(self, body: bytes, where: str, base_url: str | None = None) -> list[FeedItem]:
        """The feed's items (ParseError as parse_feed raises it); SourceError if a worker died."""
        executor = self._route()
        if executor is None:
            return self._parse(body, where, base_url)
        try:
            return self._in_worker(executor, body, where, base_url)
        except BrokenProcessPool:
            pass
        # Every body a dead worker's pool held fails with it: each gets one more try in a new
        # pool, so only a body that kills a worker twice is lost (to the next cycle).
        try:
            return self._in_worker(self._executor_now(), body, where, base_url)
        except BrokenProcessPool:
            raise SourceError(
                f"{where}: the feed parser's worker process stopped while reading it; "
                "the feed is read again next cycle"
            ) from None

    def _in_worker(
        self, executor: ProcessPoolExecutor, body: bytes, where: str, base_url: str | None
    ) -> list[FeedItem]:
        future = executor.submit(_bounded, self._parse, self._timeout, body, where, base_url)
        try:
            return future.result()
        except BrokenProcessPool:
            self._discard(executor)
            raise

    def close(self) -> None:
        """Stop the workers (queued bodies are cancelled); a later parse may start a new pool."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _route(self) -> ProcessPoolExecutor | None:
        now = self._clock()
        idle: ProcessPoolExecutor | None = None
        with self._lock:
            self._recent.append(now)
            while now - self._recent[0] > self._window:
                self._recent.popleft()
            if self.workers < 1 or len(self._recent) < self._threshold:
                if self._executor is not None and now - self._last_used > IDLE_SECONDS:
                    idle, self._executor = self._executor, None
                executor = None
            else:
                self._last_used = now
                executor = self._executor or self._start()
        if idle is not None:
            idle.shutdown(wait=False)
        return executor

    def _executor_now(self) -> ProcessPoolExecutor:
        with self._lock:
            return self._executor or self._start()

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The server imports the caller's main script (guarded, as the console script is) and
        # the parser once; each worker is forked from it with both loaded, so none re-imports.
        context.set_forkserver_preload(["__main__", __name__])
        self._executor = ProcessPoolExecutor(max(1, self.workers), mp_context=context)
        self.started += 1
        return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False)


# One pool per process: every feed and news poll's bodies, whichever thread fetched them.
PARSE_POOL = ParsePool()
