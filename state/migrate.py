"""Schema migrations with Alembic: apply pending ones at start-up, or refuse when told not to."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

__all__ = [
    "INITIAL_REVISION",
    "SchemaOutOfDateError",
    "current_revision",
    "head_revision",
    "upgrade",
]

INITIAL_REVISION = "0001"
# Any constant works: every trialwatch process on one PostgreSQL database takes the same lock.
_PG_LOCK_KEY = 0x7472_6961_6C77  # "trialw"


class SchemaOutOfDateError(RuntimeError):
    """The database needs migrations that this start-up was told not to apply."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("state") / "migrations"))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, *, apply: bool = True) -> None:
    """Bring the schema to the newest migration; with apply=False, refuse if it is behind."""
    if not apply:
        current, head = current_revision(engine), head_revision()
        if current != head:
            raise SchemaOutOfDateError(
                f"the database schema is at revision {current or 'none (empty database)'} but "
                f"this version needs {head}; start without --no-migrate to apply the migrations"
            )
        return
    if current_revision(engine) == head_revision():
        return  # nothing to do, and no write: a read-only database opens for `status`
    config = _config()
    with _exclusive(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two processes starting at once: the second waits here, then finds nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        if _unversioned_schema(connection):
            # Made by create_all before migrations existed: it is the initial schema.
            command.stamp(config, INITIAL_REVISION)
        command.upgrade(config, "head")


def _unversioned_schema(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and "alert" in tables


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """On SQLite, a lock file next to the database serialises migrating processes."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.migrate-lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
