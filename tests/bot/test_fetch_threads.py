"""Reused fetch threads: a poll starts no thread, and a hung fetch never holds up the next one."""

from __future__ import annotations

import threading

import pytest

from bot.polling.fetch import FetchThreads
from watchers.model import FetchError

_PATIENCE = 10.0


def test_calls_in_a_row_reuse_one_thread() -> None:
    pool = FetchThreads()
    names = []
    for n in range(20):
        running = pool.run(lambda: threading.current_thread().ident, f"fetch {n}")
        assert running.wait(_PATIENCE)
        names.append(running.result())
    assert len(set(names)) == 1


def test_an_error_is_raised_in_the_callers_thread() -> None:
    def failing() -> None:
        raise FetchError("example.test did not answer")

    running = FetchThreads().run(failing, "fetch failing")
    assert running.wait(_PATIENCE)
    with pytest.raises(FetchError, match="did not answer"):
        running.result()


def test_a_hung_fetch_does_not_hold_up_the_next() -> None:
    pool, release = FetchThreads(), threading.Event()
    hung = pool.run(lambda: release.wait(_PATIENCE), "fetch hung")
    assert not hung.wait(0.05)  # the caller walks away from it
    after = pool.run(lambda: "answered", "fetch next")
    assert after.wait(_PATIENCE) and after.result() == "answered"
    release.set()
    assert hung.wait(_PATIENCE) and hung.result() is True


def test_idle_threads_end() -> None:
    pool = FetchThreads(idle_seconds=0.01)
    running = pool.run(lambda: None, "fetch once")
    assert running.wait(_PATIENCE)
    for _ in range(500):  # bounded: the idle thread retires after 0.01 s
        if pool.idle_threads() == 0:
            break
        threading.Event().wait(0.01)
    assert pool.idle_threads() == 0
