"""Alembic migrations: they build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from state.migrate import (
    SchemaOutOfDateError,
    current_revision,
    head_revision,
    upgrade,
)
from state.store import Store, create_store_engine
from tests.factories import Clock, result, trial
from tests.state.helpers import routed


def test_migrations_build_the_schema_the_models_describe(empty_db_url: str) -> None:
    """Fails when a table or column changes without a migration."""
    store = Store.open(empty_db_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_no_migrate_refuses_an_empty_or_old_database_and_accepts_a_current_one(
    empty_db_url: str,
) -> None:
    engine = create_store_engine(empty_db_url)
    with pytest.raises(SchemaOutOfDateError, match="start without --no-migrate"):
        Store.open(empty_db_url, migrate=False)
    upgrade(engine)
    Store.open(empty_db_url, migrate=False).close()  # up to date: starts
    engine.dispose()


def test_reopening_keeps_data_and_applies_nothing_twice(empty_db_url: str) -> None:
    clock = Clock()
    store = Store.open(empty_db_url)
    routed(store, {"console": None}).apply_poll(result(trial()), started=clock(), at=clock())
    store.close()
    again = Store.open(empty_db_url)
    try:
        assert set(again.snapshot("ulefnersen", "clinicaltrials")) == {"NCT04768972"}
    finally:
        again.close()


def test_processes_starting_together_migrate_once(empty_db_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            Store.open(empty_db_url).close()
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    engine = create_store_engine(empty_db_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_database_made_before_migrations_is_adopted(empty_db_url: str) -> None:
    engine = create_store_engine(empty_db_url)
    SQLModel.metadata.create_all(engine)  # how the very first version created its tables
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_start_up_check_reads_the_same_head_as_alembic() -> None:
    """`head_revision` reads the migration files without Alembic (a quick start); a migration
    written some other way than the template must not fool it."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("state") / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_migrating_a_sqlite_file_leaves_no_lock_file_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trialwatch.db'}"
    Store.open(url).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trialwatch.db"]
