"""One wall-clock budget per poll, per thread: connecting, every byte, retries, waits and pages."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from watchers.model import FetchError

__all__ = ["PollBudget"]


@dataclass(frozen=True)
class _Budget:
    until: float  # on the budget's monotonic clock
    seconds: float


class PollBudget:
    """The current thread's poll deadline, if any, and the checks Http makes against it."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._local = threading.local()

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request this thread makes inside the block shares one budget (the tighter
        one wins when blocks nest)."""
        outer: _Budget | None = getattr(self._local, "current", None)
        mine = _Budget(self._monotonic() + seconds, seconds)
        self._local.current = mine if outer is None or mine.until < outer.until else outer
        try:
            yield
        finally:
            self._local.current = outer

    def check(self, host: str, path: str, progress: str = "") -> None:
        """FetchError once the budget is spent."""
        # A server trickling one byte a second never trips a read timeout: count the total.
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise self._error(host, path, progress)

    def within(self, delay: float, host: str, path: str) -> float:
        """`delay`, unless waiting that long would outlast the budget: then fail now."""
        remaining = self._remaining()
        if remaining is not None and delay >= remaining:
            raise self._error(host, path, f"with a retry due in {delay:.0f} s")
        return delay

    def bounded(self, base: httpx.Timeout) -> httpx.Timeout | None:
        """`base`'s timeouts, each cut to what is left of the budget; None without one."""
        remaining = self._remaining()
        if remaining is None:
            return None
        left = max(remaining, 0.001)
        return httpx.Timeout(
            connect=min(base.connect or left, left),
            read=min(base.read or left, left),
            write=min(base.write or left, left),
            pool=min(base.pool or left, left),
        )

    def _remaining(self) -> float | None:
        budget: _Budget | None = getattr(self._local, "current", None)
        return None if budget is None else budget.until - self._monotonic()

    def _error(self, host: str, path: str, progress: str) -> FetchError:
        budget: _Budget = self._local.current
        detail = f" ({progress})" if progress else ""
        return FetchError(
            f"{host} timed out for {path}: no complete answer within the poll deadline of "
            f"{budget.seconds:g} s{detail}"
        )
