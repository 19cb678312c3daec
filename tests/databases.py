"""Test databases made fast: migrate once per test process, then hand each test an empty copy.

Running every Alembic migration for each of hundreds of tests cost ~25 ms of CPU on SQLite and
~80 ms (plus as much of the server's) on PostgreSQL. Instead, `Store.open` migrates once per
process, and each test gets what it would have left on an empty database: a copy of that file
(SQLite), or the one PostgreSQL database emptied back to its just-migrated state.
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
    """This test process's PostgreSQL database, emptied between tests without re-migrating.

    Each test gets the database as a fresh migrated one would be: tables that ever had a page
    written are truncated (new, empty files, as after CREATE TABLE), every sequence starts at 1
    again. That takes milliseconds where recreating the database from its template took 0.1-0.5
    s of the server's time. When a test changed the schema (the migrations' own tests), the
    database is recreated from the template instead.
    """

    def __init__(self, url: str, worker: str) -> None:
        self.base = make_url(url)
        self.name = f"{self.base.database}_{worker}"
        self.template = f"{self.name}_template"
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        # Rebuilt each session: a template left by an older checkout may lack new migrations.
        self._recreate(self.template)
        Store.open(self.url(self.template)).close()  # disposes its engine: no one stays connected
        self._recreate(self.name, template=self.template)
        self._engine = create_engine(make_url(self.url()), isolation_level="AUTOCOMMIT")
        self._janitor = self._engine.connect()  # one connection for every test's clean-up
        self._dirty = False
        self._schema = self._fingerprint()

    def url(self, name: str | None = None) -> str:
        """The URL of database `name` (this process's test database by default)."""
        database: URL = self.base.set(database=name or self.name)
        return database.render_as_string(hide_password=False)

    def fresh(self) -> str:
        """This process's test database at the current schema, with no rows."""
        self._disconnect_others()
        if self._dirty or self._fingerprint() != self._schema:
            self._dirty = False
            self._janitor.close()
            self._engine.dispose()
            self._recreate(self.name, template=self.template)
            self._janitor = self._engine.connect()
            return self.url()
        written = self._janitor.execute(text(_WRITTEN_TABLES)).scalars().all()
        if written:
            tables = ", ".join(f'"{name}"' for name in written)
            self._janitor.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        self._janitor.execute(text(_RESTART_SEQUENCES))
        return self.url()

    def empty(self) -> str:
        """This process's test database with no tables at all (the next `fresh` rebuilds it)."""
        self._dirty = True
        self._disconnect_others()
        self._janitor.execute(text("DROP SCHEMA public CASCADE"))
        self._janitor.execute(text("CREATE SCHEMA public"))
        return self.url()

    def close(self) -> None:
        """Drop both databases and release the connections."""
        self._janitor.close()
        self._engine.dispose()
        with self.admin.connect() as connection:
            for name in (self.name, self.template):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def _fingerprint(self) -> str:
        """Every column with its type, the indexes and the migration: what a test could change."""
        schema = str(self._janitor.execute(text(_SCHEMA_FINGERPRINT)).scalar_one())
        if ".version_num " not in schema:  # no alembic_version table: not a migrated database
            return schema
        versions = self._janitor.execute(text("SELECT version_num FROM alembic_version"))
        return f"{schema} at {sorted(versions.scalars().all())}"

    def _disconnect_others(self) -> None:
        # A connection a test leaked could hold a lock (or an advisory lock) into the next test.
        self._janitor.execute(text(_DISCONNECT_OTHERS))

    def _recreate(self, name: str, template: str | None = None) -> None:
        source = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))


_WRITTEN_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'alembic_version'
  AND pg_relation_size(c.oid) > 0
"""
_RESTART_SEQUENCES = """
SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S'
"""
_SCHEMA_FINGERPRINT = """
SELECT coalesce((SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' '
                                    || is_nullable || ' ' || coalesce(column_default, ''), ', '
                                    ORDER BY table_name, column_name)
                  FROM information_schema.columns WHERE table_schema = 'public'), '')
       || ' ' || coalesce((SELECT string_agg(indexdef, ', ' ORDER BY indexdef)
                           FROM pg_indexes WHERE schemaname = 'public'), '')
"""
_DISCONNECT_OTHERS = """
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
