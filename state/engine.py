"""Database engines: SQLite gets its directory, WAL mode and a busy timeout; others a pool check."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_CONNECTIONS", "create_store_engine"]


def _read_only(database: Path) -> bool:
    """True for an existing SQLite file that this process cannot write (or its folder)."""
    if not database.is_file():
        return False
    return not (os.access(database, os.W_OK) and os.access(database.parent, os.W_OK))


# SQLAlchemy's own default: 5 kept open, up to 10 more while busy (a server's pool).
DEFAULT_CONNECTIONS = 15
_KEPT_OPEN = 5


def create_store_engine(url: str, *, connections: int = DEFAULT_CONNECTIONS) -> Engine:
    """An engine for `url` with at most `connections` at once (the most threads that use the
    store together); SQLite gets its directory created, WAL mode and a busy timeout."""
    parsed = make_url(url)
    # A SQLite connection is a file handle in this process: every one is kept, because a
    # connection closed after a burst is opened again by the next one (WAL, pragmas), which
    # was 0.2 s of CPU in an unchanged cycle of 500 feeds. A server's connections are shared
    # with others: a few are kept, the rest opened while busy.
    kept = connections if parsed.get_backend_name() == "sqlite" else min(_KEPT_OPEN, connections)
    pool = {
        "pool_size": kept,
        "max_overflow": max(0, connections - kept),
        # The most recently used connection first: the fewest connections stay busy, and a
        # status card kept per SQLite connection (state/status.py) is found again.
        "pool_use_lifo": True,
    }
    if parsed.drivername == "postgresql":  # the driver we ship is psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **pool)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if _read_only(Path(parsed.database)):
            # A WAL database in a folder we cannot write cannot even be read the usual way (no
            # -shm file): open it immutable, so `status` works; any write says "readonly".
            target = Path(parsed.database).resolve()
            return create_engine(
                f"sqlite:///file:{quote(str(target))}?immutable=1&uri=true",
                connect_args={"timeout": 30},
                **pool,
            )
    memory = not parsed.database or parsed.database == ":memory:"  # one connection, no queue
    engine = create_engine(url, connect_args={"timeout": 30}, **({} if memory else pool))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A read-only file cannot switch modes; reading it (`status`) still works, and a
        # write fails later with "readonly database", which the commands explain.
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
