"""uvicorn's Server without its 0.1 s polling: a stop request ends it as soon as it is drained,
and an idle service wakes once a second, not ten times."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from asyncio import wait_for
from collections.abc import Callable
from typing import Any

import uvicorn

__all__ = ["PromptServer"]

log = logging.getLogger(__name__)

# uvicorn ticks every 0.1 s and refreshes the Date header on every tenth tick; ticking once a
# second keeps the header's one-second freshness and wakes an idle service 10x less often.
TICK = 1.0
DRAIN_POLL = 0.005  # how often shutdown looks for connections and tasks that are still running


class PromptServer(uvicorn.Server):
    """A uvicorn Server whose `request_exit` wakes it at once.

    uvicorn notices `should_exit` on its next 0.1 s tick, then always sleeps 0.1 s before it
    looks at the connections, then looks again every 0.1 s: each stop took 0.1-0.3 s even with
    nothing in flight. Here a stop wakes the main loop, and shutdown looks every 5 ms; what it
    waits for (the responses and background tasks in flight, within
    `timeout_graceful_shutdown`) is uvicorn's.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        exception_handler: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]
        | None = None,
    ) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._exception_handler = exception_handler

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up, on a loop that reports its errors through `exception_handler`."""
        if self._exception_handler is not None:  # before the first accept() can fail
            asyncio.get_running_loop().set_exception_handler(self._exception_handler)
        await super().startup(sockets)

    def request_exit(self) -> None:
        """Ask the server to stop, from any thread (returns at once)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        """uvicorn's loop of ticks, woken early by `request_exit`."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        should_exit = await self.on_tick(0)
        while not should_exit:
            with contextlib.suppress(TimeoutError):
                await wait_for(self._wake.wait(), TICK)
            should_exit = await self.on_tick(0)  # 0: uvicorn's "a second has passed" tick

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, looking for what is still in flight every 5 ms instead of 0.1 s."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close; busy ones finish first
        try:
            await asyncio.wait_for(self._drained(), timeout=self.config.timeout_graceful_shutdown)
        except TimeoutError:
            log.error(
                "cancelling %d running task(s): the graceful shutdown timeout was exceeded",
                len(self.server_state.tasks),
            )
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drained(self) -> None:
        await asyncio.sleep(0)  # let the connections just shut down close their transports
        while (self.server_state.connections or self.server_state.tasks) and not self.force_exit:
            await asyncio.sleep(DRAIN_POLL)
        for server in self.servers:
            await server.wait_closed()
