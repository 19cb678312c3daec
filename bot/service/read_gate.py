"""At most a few `/status` reads at once, so they never wait on the database's connection pool.

Slack gets an answer within its budget whatever happens: a read still running then is
abandoned by the request, but it keeps its slot until it ends, so abandoned reads can never
take more connections than the slots; a request that finds no free slot before its deadline
answers "busy" at once instead of queueing for a connection (SQLAlchemy waits 30 s for one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["STATUS_READ_SLOTS", "ReadGate"]

T = TypeVar("T")

# Reads share two cores and one interpreter lock: more at once only queue inside Python, while
# each holds a pooled connection. The pool keeps room for polls and deliveries besides these.
STATUS_READ_SLOTS = 4


class ReadGate:
    """A counting gate held by the worker thread that reads, for as long as the read runs."""

    def __init__(self, slots: int = STATUS_READ_SLOTS) -> None:
        if slots < 1:
            raise ValueError("a read gate needs at least one slot")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    def call(self, read: Callable[[], T], *, until: float) -> T | None:
        """`read()` once a slot is free; None if none frees before `until` (time.monotonic)."""
        if not self._free.acquire(timeout=max(0.0, until - time.monotonic())):
            return None
        try:
            return read()
        finally:
            self._free.release()
