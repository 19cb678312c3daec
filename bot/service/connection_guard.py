"""Slow clients cannot hold the HTTP server: a cap on open connections and a request deadline.

uvicorn (h11) closes an idle keep-alive connection after `timeout_keep_alive`, but a connection
that never finishes its request is never closed: a byte of headers cancels that timer, and a
new connection has none. Here each request must arrive whole (headers and body) within
`deadline` seconds, and once `cap` connections are open a new one closes the oldest connection
still waiting on its client, so /healthz and Slack still get through while the slots are full.
uvicorn's `limit_concurrency` is not used: it answers 503 to every request once the open
connections reach it, /healthz included, which is what the slow clients would cause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.service.throttled_log import ThrottledLog

__all__ = ["REQUEST_DEADLINE", "ConnectionGuard"]

log = logging.getLogger(__name__)

# Slack's requests and a browser's arrive in milliseconds; a client still sending after this is
# too slow to be served within Slack's 3 s anyway.
REQUEST_DEADLINE = 10.0
# The client still owes us (part of) a request: headers, or a body.
_WAITING = (h11.IDLE, h11.SEND_BODY)


class ConnectionGuard:
    """The open connections of one server, oldest first; closes the ones that overstay."""

    def __init__(
        self,
        cap: int,
        deadline: float = REQUEST_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cap < 1:
            raise ValueError("the connection cap must be at least 1")
        self.cap, self.deadline = cap, deadline
        self._open: dict[_GuardedProtocol, None] = {}  # insertion order: oldest first
        self._evicted = ThrottledLog(
            log,
            logging.WARNING,
            "%d HTTP connections open (the cap): closed the oldest one waiting on its client",
            clock=clock,
        )
        self._refused = ThrottledLog(
            log,
            logging.WARNING,
            "%d HTTP connections open (the cap), all busy: closed a new connection",
            clock=clock,
        )
        self._expired = ThrottledLog(
            log,
            logging.WARNING,
            "closed an HTTP connection that had not sent its whole request within %.0f s",
            clock=clock,
        )

    def protocol(self) -> type[H11Protocol]:
        """uvicorn's h11 protocol, with this guard: pass it as `uvicorn.Config(http=...)`."""
        return type("GuardedH11Protocol", (_GuardedProtocol,), {"guard": self})

    @property
    def open(self) -> int:
        """Connections open now."""
        return len(self._open)

    def admit(self, protocol: _GuardedProtocol) -> bool:
        """Register a new connection; False if it must be closed (every slot is busy)."""
        if len(self._open) >= self.cap:
            victim = next((p for p in self._open if p.waiting_on_client()), None)
            if victim is None:
                self._refused.event(len(self._open))
                return False
            self._evicted.event(len(self._open))
            self.drop(victim)
            victim.close()
        self._open[protocol] = None
        return True

    def drop(self, protocol: _GuardedProtocol) -> None:
        """Forget a connection (closed, or being closed)."""
        self._open.pop(protocol, None)

    def expire(self, protocol: _GuardedProtocol) -> None:
        """Close a connection whose request did not arrive within the deadline."""
        self._expired.event(self.deadline)
        self.drop(protocol)
        protocol.close()


class _GuardedProtocol(H11Protocol):
    """H11Protocol that registers with its guard and closes itself when a request overstays."""

    guard: ConnectionGuard
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.guard.admit(self):
            self._arm()
        else:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.guard.drop(self)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if not self.waiting_on_client():  # the request is in: the app's time is not limited
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.waiting_on_client() and not self.transport.is_closing():
            self._arm()  # the next request on this keep-alive connection gets its own deadline

    def waiting_on_client(self) -> bool:
        """True while the client owes us a request, or the rest of one."""
        return self.conn.their_state in _WAITING

    def close(self) -> None:
        """Close now; the client gets no answer (it has not asked anything whole)."""
        self._disarm()
        if not self.transport.is_closing():
            self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.guard.deadline, self._overstayed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _overstayed(self) -> None:
        self._deadline = None
        if self.waiting_on_client() and not self.transport.is_closing():
            self.guard.expire(self)
