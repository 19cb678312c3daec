"""Test databases made fast: migrate a template once per test process, then copy it per test.

Running every Alembic migration for each of hundreds of tests cost ~25 ms of CPU on SQLite and
~80 ms (plus the server's share) on PostgreSQL. A template holds the schema at head; each test
gets a byte-for-byte copy (SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE), which
is exactly what `Store.open` on an empty database would have left, because `Store.open` made it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from state.store import Store

__all__ = ["PostgresDatabases", "SqliteTemplate"]


class SqliteTemplate:
    """A migrated SQLite file, copied to each test's folder on demand."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        Store.open(f"sqlite:///{self.path}").close()  # closing checkpoints the WAL into the file

    def copy_to(self, target: Path) -> str:
        """A fresh database at the current schema in `target`; its URL."""
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


class PostgresDatabases:
    """This test process's database and its migrated template on the server at `url`."""

    def __init__(self, url: str, worker: str) -> None:
        self.base = make_url(url)
        self.name = f"{self.base.database}_{worker}"
        self.template = f"{self.name}_template"
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
        # FILE_COPY (PostgreSQL 15+) copies a small database faster than WAL-logging each page.
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
        # Rebuilt each session: a template left by an older checkout may lack new migrations.
        self._recreate(self.template)
        Store.open(self.url(self.template)).close()  # disposes its engine: no one stays connected

    def url(self, name: str | None = None) -> str:
        """The URL of database `name` (this process's test database by default)."""
        database: URL = self.base.set(database=name or self.name)
        return database.render_as_string(hide_password=False)

    def fresh(self) -> str:
        """This process's test database, recreated from the template: current schema, no rows."""
        self._recreate(self.name, template=self.template)
        return self.url()

    def empty(self) -> str:
        """This process's test database, recreated with no tables at all."""
        self._recreate(self.name)
        return self.url()

    def close(self) -> None:
        """Drop both databases and release the admin connection."""
        with self.admin.connect() as connection:
            for name in (self.name, self.template):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def _recreate(self, name: str, template: str | None = None) -> None:
        # FORCE: a connection a test left open must not keep the next test's database alive.
        source = f' TEMPLATE "{template}"{self._strategy}' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
