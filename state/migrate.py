"""Schema migrations with Alembic: apply pending ones at start-up, or refuse when told not to.

The check at start-up is cheap: the database's `alembic_version` row against the newest
revision named in the migration files. Alembic itself (a few hundred milliseconds of imports)
is loaded only when there is something to migrate, or when that cheap reading is not conclusive.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "INITIAL_REVISION",
    "SchemaOutOfDateError",
    "current_revision",
    "head_revision",
    "upgrade",
]

INITIAL_REVISION = "0001"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
# Any constant works: every trialwatch process on one PostgreSQL database takes the same lock.
_PG_LOCK_KEY = 0x7472_6961_6C77  # "trialw"
# `revision: str = "0004_x"` and `down_revision: str | None = "0003_y"` (or None), as the
# template writes them; anything else (a merge's tuple) makes the files inconclusive.
_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*[\"']([^\"'\n]+)[\"']\s*$", re.MULTILINE)
_DOWN = re.compile(
    r"^down_revision\s*(?::[^=\n]*)?=\s*(?:None|[\"']([^\"'\n]+)[\"'])\s*$", re.MULTILINE
)


class SchemaOutOfDateError(RuntimeError):
    """The database needs migrations that this start-up was told not to apply."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("state") / "migrations"))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    return _head_from_files() or _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def _head_from_files() -> str | None:
    """The one revision no other migration revises, or None when the files do not say plainly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in (resources.files("state") / "migrations" / "versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        source = entry.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        if len(rows) <= 1:
            return str(rows[0][0]) if rows else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()  # raises: branches


def upgrade(engine: Engine, *, apply: bool = True) -> None:
    """Bring the schema to the newest migration; with apply=False, refuse if it is behind."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return  # nothing to do, and no write: a read-only database opens for `status`
    if not apply:
        raise SchemaOutOfDateError(
            f"the database schema is at revision {current or 'none (empty database)'} but "
            f"this version needs {head}; start without --no-migrate to apply the migrations"
        )
    from alembic import command

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
    return VERSION_TABLE not in tables and "alert" in tables


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """On SQLite, a lock file next to the database serialises migrating processes; it is
    removed afterwards, so a run leaves nothing but the database behind."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(f"{database}.migrate-lock")
    while True:
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                # The holder before us may have removed the file while we waited on it: our lock
                # is then on an unlinked file that a newcomer would not see. Start again.
                if not _same_file(handle.fileno(), path):
                    continue
                yield
                # Removed while still locked: whoever waits on this file starts again above.
                path.unlink(missing_ok=True)
                return
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
