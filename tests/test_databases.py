"""The suite's own database fixtures: every test gets a just-migrated, empty database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from state.migrate import current_revision, head_revision
from state.store import Store, create_store_engine
from tests.databases import PostgresDatabases, SqliteTemplate
from tests.factories import Clock, result, trial
from tests.state.helpers import routed

CONSOLE = {"console": None}


def _poll_and_read_ids(url: str) -> tuple[list[int], list[int]]:
    """Store one poll's snapshot row: the snapshot table's ids before and after."""
    store = Store.open(url)
    try:
        clock = Clock()
        with store.engine.connect() as connection:
            before = list(connection.execute(text("SELECT id FROM snapshot")).scalars())
        routed(store, CONSOLE).apply_poll(result(trial()), started=clock(), at=clock())
        with store.engine.connect() as connection:
            return before, list(connection.execute(text("SELECT id FROM snapshot")).scalars())
    finally:
        store.close()


def _snapshot_columns(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            query = (
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'snapshot'"
            )
            return set(connection.execute(text(query), {"t": "snapshot"}).scalars())
    finally:
        engine.dispose()


def _at_head(url: str) -> bool:
    engine = create_store_engine(url)
    try:
        return current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_each_sqlite_copy_starts_migrated_and_empty(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    first = sqlite_template.copy_to(tmp_path / "one.db")
    assert _at_head(first)
    assert _poll_and_read_ids(first) == ([], [1])
    second = sqlite_template.copy_to(tmp_path / "two.db")
    assert _poll_and_read_ids(second) == ([], [1])  # nothing of the first copy's poll


def test_postgres_is_emptied_between_tests_and_rebuilt_after_a_schema_change(
    postgres_databases: PostgresDatabases | None,
) -> None:
    if postgres_databases is None:
        pytest.skip("set TRIALWATCH_TEST_POSTGRES_URL to run against PostgreSQL")
    url = postgres_databases.fresh()
    assert _at_head(url)
    assert _poll_and_read_ids(url) == ([], [1])
    engine = create_store_engine(url)
    leaked = engine.connect()  # as a test that forgot to close it: it must not block the next
    leaked.execute(text("LOCK TABLE snapshot IN ACCESS EXCLUSIVE MODE"))
    assert _poll_and_read_ids(postgres_databases.fresh()) == ([], [1])  # rows gone, ids start over
    leaked.invalidate()  # the clean-up ended its session
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE snapshot ADD COLUMN stray integer"))
    engine.dispose()
    url = postgres_databases.fresh()
    assert _at_head(url)
    assert "stray" not in _snapshot_columns(url)
    postgres_databases.empty()
    assert not _at_head(url)
    assert _at_head(postgres_databases.fresh())
