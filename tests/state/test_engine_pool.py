"""The store's engine keeps its SQLite connections: a burst of polls never reopens the file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from state.engine import create_store_engine

THREADS = 12


def _burst(engine: Any, rounds: int) -> None:
    """`THREADS` threads each hold a connection at the same moment, then all give it back
    (the pause between two polling bursts), `rounds` times."""
    barrier = threading.Barrier(THREADS)

    def use() -> None:
        for _ in range(rounds):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                barrier.wait(10)  # every thread holds one now
            barrier.wait(10)  # every connection is back in the pool

    threads = [threading.Thread(target=use) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)


def test_a_burst_of_polls_opens_each_sqlite_connection_once(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'tw.db'}", connections=THREADS)
    opened: list[object] = []
    event.listen(engine, "connect", lambda dbapi, record: opened.append(dbapi))
    try:
        _burst(engine, rounds=4)
    finally:
        engine.dispose()
    # Before: 5 kept, the other 7 closed after each burst and opened again: 33 opens.
    assert len(opened) == THREADS


def test_a_server_database_keeps_few_connections_when_idle() -> None:
    engine = create_store_engine("postgresql://trialwatch@127.0.0.1:1/none", connections=40)
    # Not opened here: the pool's size is what a server shares with its other clients.
    assert (engine.pool.size(), engine.pool._max_overflow) == (5, 35)  # type: ignore[attr-defined]
