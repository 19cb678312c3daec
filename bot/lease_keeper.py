"""Keeps a poll's lease alive while the poll runs: a long poll is never polled twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from state.leases import PollLeases

__all__ = ["LeaseKeeper"]

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews (topic, source)'s lease every third of its time to live until the poll ends.

    `wait(seconds)` returns True once the poll is over; tests inject one that drives time.
    """

    def __init__(
        self,
        leases: PollLeases,
        topic: str,
        source: str,
        *,
        owner: str,
        ttl: timedelta,
        clock: Callable[[], datetime],
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._leases = leases
        self._pair = (topic, source)
        self._owner = owner
        self._ttl = ttl
        self._clock = clock
        self._done = threading.Event()
        self._wait = wait or self._done.wait
        self._thread = threading.Thread(target=self._renew, name=f"lease {source}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _renew(self) -> None:
        topic, source = self._pair
        every = self._ttl.total_seconds() / 3
        while not self._wait(every) and not self._done.is_set():
            try:
                kept = self._leases.renew(
                    topic, source, owner=self._owner, at=self._clock(), ttl=self._ttl
                )
            except Exception as exc:  # a database blip: the lease still has time; try again
                log.warning("poll source=%s topic=%s: lease not renewed (%s)", source, topic, exc)
                continue
            if not kept:
                log.warning("poll source=%s topic=%s: lease lost while polling", source, topic)
                return
