"""Events that can repeat thousands of times a second, logged once per interval with a count.

Out of descriptors, asyncio's accept loop reports every failed accept() to the loop's exception
handler with a traceback (up to `backlog` per wake-up): 180 MB of log in 45 s was seen.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Callable
from typing import Any

__all__ = ["REPORT_INTERVAL", "AcceptErrorHandler", "ThrottledLog"]

REPORT_INTERVAL = 60.0
# asyncio's accept loop reports these (and only these) as 'out of system resource'.
_RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class ThrottledLog:
    """`event(...)` logs the first time, then at most once per `interval` with the count."""

    def __init__(
        self,
        logger: logging.Logger,
        level: int,
        message: str,
        *,
        interval: float = REPORT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger, self._level, self._message = logger, level, message
        self._interval, self._clock = interval, clock
        self._count = 0
        self._last: float | None = None

    def event(self, *args: object) -> None:
        """Count one occurrence; log (with `args` for the message) if the interval is over."""
        self._count += 1
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        if self._last is None:
            count = f"further ones are counted and reported every {self._interval:.0f} s"
        else:
            count = f"{self._count} time(s) in the last {now - self._last:.0f} s"
        self._logger.log(self._level, f"{self._message} ({count})", *args)
        self._count, self._last = 0, now


class AcceptErrorHandler:
    """The event loop's exception handler: accept() failures throttled, the rest as usual."""

    def __init__(self, logger: logging.Logger, clock: Callable[[], float] = time.monotonic):
        self._log = ThrottledLog(
            logger, logging.ERROR, "cannot accept HTTP connections: %s", clock=clock
        )

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Throttle what asyncio's accept loop reports; hand anything else to the default."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRORS:
            self._log.event(exc.strerror or exc)
            return
        loop.default_exception_handler(context)
