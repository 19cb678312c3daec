"""Shared fixtures: database URLs (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from state.store import create_store_engine

PG_ENV = "TRIALWATCH_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"CI must provide {PG_ENV}: the store suite runs on PostgreSQL too")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or the CI PostgreSQL database wiped clean."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trialwatch.db'}"
        return
    url = _postgres_url()
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
