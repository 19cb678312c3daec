"""Database engines: SQLite gets its directory, WAL mode and a busy timeout; others a pool check."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import create_engine

__all__ = ["create_store_engine"]


def _read_only(database: Path) -> bool:
    """True for an existing SQLite file that this process cannot write (or its folder)."""
    if not database.is_file():
        return False
    return not (os.access(database, os.W_OK) and os.access(database.parent, os.W_OK))


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its directory created, WAL mode and a busy timeout."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # the driver we ship is psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if _read_only(Path(parsed.database)):
            # A WAL database in a folder we cannot write cannot even be read the usual way (no
            # -shm file): open it immutable, so `status` works; any write says "readonly".
            target = Path(parsed.database).resolve()
            return create_engine(
                f"sqlite:///file:{quote(str(target))}?immutable=1&uri=true",
                connect_args={"timeout": 30},
            )
    engine = create_engine(url, connect_args={"timeout": 30})

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
