"""How many HTTP connections the service may hold open: the descriptor limit minus a reserve.

Every accepted connection is a file descriptor; without a cap, slow clients can take them all
(systemd's default soft limit is 1024) and polls then fail with "Too many open files". The
reserve keeps room for what the service itself opens: polls' HTTP connections, the database
pool and its files, Slack and SMTP clients, logs.
"""

from __future__ import annotations

import resource

__all__ = [
    "BACKLOG",
    "BASE_RESERVE",
    "MAX_CONNECTIONS",
    "MIN_CONNECTIONS",
    "connection_cap",
    "fd_reserve",
    "service_reserve",
]

# The listening socket's backlog. asyncio accepts up to this many connections per wake-up before
# the server sees any of them, so the cap leaves room for one such burst.
BACKLOG = 64
# The interpreter, stdio, log files, the event loop's selector, Socket Mode, Slack and SMTP.
BASE_RESERVE = 64
# Each pooled database connection: a socket, or SQLite's database, -wal and -shm files.
FDS_PER_DB_CONNECTION = 3
# Slash commands, clicks, /healthz and the dashboard never need more than this at once.
MAX_CONNECTIONS = 4096
# Below this the service cannot answer Slack and /healthz together; it takes these anyway.
MIN_CONNECTIONS = 16


def fd_reserve(*, db_connections: int, http_connections: int) -> int:
    """Descriptors kept out of the HTTP server's reach for polls and the database."""
    return BASE_RESERVE + FDS_PER_DB_CONNECTION * db_connections + http_connections


def service_reserve(max_parallel: int) -> int:
    """The reserve for `[http] max_parallel` polls: the pool sizes of bot/app.py's store
    (max_parallel + 10) and of watchers/net/http.py's client (at least 100)."""
    return fd_reserve(db_connections=max_parallel + 10, http_connections=max(100, max_parallel))


def connection_cap(reserve: int, soft_limit: int | None = None) -> int:
    """At most this many open HTTP connections: RLIMIT_NOFILE's soft limit minus `reserve` and
    one burst of accepts."""
    if soft_limit is None:
        soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft_limit == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, soft_limit - reserve - BACKLOG))
