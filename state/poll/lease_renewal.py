"""One renewer for every poll lease held by this process: a long poll is never polled twice.

Each poll registers its lease while it asks its source; one daemon thread renews every
registered lease in one statement per period (a third of the shortest time to live), so a
cycle of 500 polls starts one thread, not 500, and makes no renewal statement at all when
every poll ends within the period.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from state.poll.leases import DEFAULT_POLL_LEASE, PollLeases

__all__ = ["LeaseRenewer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Held:
    owner: str
    ttl: timedelta
    clock: Callable[[], datetime]


class LeaseRenewer:
    """Renews the registered leases every third of their time to live until they are let go.

    `wait(seconds)` pauses the renewer and returns True once it should stop (the store is
    closing); tests inject one that drives time instead.
    """

    def __init__(self, leases: PollLeases, *, wait: Callable[[float], bool] | None = None):
        self._leases = leases
        self._closed = threading.Event()
        self._wait = wait or self._closed.wait
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], _Held] = {}
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def holding(
        self,
        topic: str,
        source: str,
        *,
        owner: str,
        ttl: timedelta = DEFAULT_POLL_LEASE,
        clock: Callable[[], datetime],
    ) -> Iterator[None]:
        """Keep `owner`'s lease on (topic, source) alive while the block runs."""
        pair, held = (topic, source), _Held(owner, ttl, clock)
        with self._lock:
            self._held[pair] = held
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                if self._held.get(pair) is held:
                    del self._held[pair]

    def close(self) -> None:
        """Stop renewing (the store is closing; polls still running lose nothing but time)."""
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _period(self) -> float:
        with self._lock:
            ttls = [held.ttl for held in self._held.values()] or [DEFAULT_POLL_LEASE]
        return min(ttls).total_seconds() / 3

    def _run(self) -> None:
        try:
            while not self._wait(self._period()) and not self._closed.is_set():
                self._renew_all()
        finally:
            with self._lock:
                self._thread = None

    def _renew_all(self) -> None:
        with self._lock:
            groups: dict[tuple[str, timedelta], dict[tuple[str, str], _Held]] = {}
            for pair, held in self._held.items():
                groups.setdefault((held.owner, held.ttl), {})[pair] = held
        for (owner, ttl), pairs in groups.items():
            at = next(iter(pairs.values())).clock()
            try:
                kept = self._leases.renew_many(pairs, owner=owner, at=at, ttl=ttl)
            except Exception as exc:  # a database blip: the leases still have time; try again
                log.warning("%d poll lease(s) not renewed (%s)", len(pairs), exc)
                continue
            for topic, source in sorted(set(pairs) - kept):
                log.warning("poll source=%s topic=%s: lease lost while polling", source, topic)
                with self._lock:  # taken over: renewing it again could only fail
                    if self._held.get((topic, source)) is pairs[(topic, source)]:
                        del self._held[(topic, source)]
