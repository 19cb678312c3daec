"""Monotonic time for `watchers.net.http.Http`: it moves only when something sleeps."""

from __future__ import annotations


class FakeClock:
    """Records every sleep and advances by it, so pacing and retries are asserted, not waited."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now
