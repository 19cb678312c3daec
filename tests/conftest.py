"""Shared fixtures: database URLs (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from state.store import create_store_engine

PG_ENV = "TRIALWATCH_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"CI must provide {PG_ENV}: the store suite runs on PostgreSQL too")
    return url


def _worker_database(url: str, worker: str) -> str:
    """`url` with the database `<db>_<worker>`, created on the server if it is missing."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    # CREATE DATABASE cannot run in a transaction; connect to the given database to issue it.
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """The PostgreSQL database of this test process: one per xdist worker, so they never clash."""
    url = _postgres_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under xdist
    if url is None or worker is None:
        return url
    return _worker_database(url, worker)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or this worker's PostgreSQL database wiped clean."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trialwatch.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip(f"set {PG_ENV} to run against PostgreSQL")
    engine = create_store_engine(url)
    with engine.begin() as connection:  # every table, the migration history included
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'trialwatch.db'}"
