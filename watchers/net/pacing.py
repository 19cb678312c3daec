"""Per-host pacing shared by every worker thread: one host is never asked faster than its pace."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

__all__ = ["HostPacer"]


class HostPacer:
    """Hands out request slots per host, `min_interval` s apart (or the host's own interval)."""

    def __init__(
        self,
        min_interval: float,
        host_intervals: Mapping[str, float] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._min_interval = min_interval
        self._host_intervals = dict(host_intervals or {})
        self._sleep = sleep
        self._monotonic = monotonic
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def keep_under(self, host: str, min_interval: float) -> None:
        """Never pace `host` faster than `min_interval`, whatever the configuration says."""
        with self._lock:
            current = self._host_intervals.get(host, self._min_interval)
            self._host_intervals[host] = max(current, min_interval)

    def wait_turn(self, host: str) -> None:
        """Block until this thread may send its next request to `host`."""
        # Reserve the next free slot for this host under the lock, then sleep outside it, so
        # threads polling different hosts never wait on each other.
        interval = self._host_intervals.get(host, self._min_interval)
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = start + interval
        if start > now:
            self._sleep(start - now)

    def forgive(self, host: str) -> None:
        """The request never reached `host`: let the next one go at once."""
        with self._lock:
            self._next_slot[host] = min(self._next_slot.get(host, 0.0), self._monotonic())
