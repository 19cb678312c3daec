"""Shared fixtures: database URLs (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx._config as httpx_config
import httpx._transports.default as httpx_transports
import pytest

from tests.databases import PostgresDatabases, SqliteTemplate

PG_ENV = "TRIALWATCH_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"CI must provide {PG_ENV}: the store suite runs on PostgreSQL too")
    return url


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    """This test process's PostgreSQL databases: one pair per xdist worker, so they never clash."""
    url = _postgres_url()
    if url is None:
        yield None
        return
    databases = PostgresDatabases(url, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    """A SQLite database migrated once for this test process."""
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


def _postgres(request: pytest.FixtureRequest) -> PostgresDatabases:
    databases: PostgresDatabases | None = request.getfixturevalue("postgres_databases")
    if databases is None:
        pytest.skip(f"set {PG_ENV} to run against PostgreSQL")
    return databases


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the current schema, with no rows: a SQLite file or a PostgreSQL one."""
    if request.param == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("sqlite_template")
        return template.copy_to(tmp_path / "trialwatch.db")
    return _postgres(request).fresh()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database without a single table, for the migrations' own tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trialwatch.db'}"
    return _postgres(request).empty()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    """A SQLite file at the current schema in the test's temporary directory."""
    return sqlite_template.copy_to(tmp_path / "trialwatch.db")


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """Undo what a command run in-process did to logging levels and the root's handlers."""
    # `configure_logging` sets the root level (DEBUG with -v) and a stderr handler: left in
    # place, the next test on this worker would capture, or print, what it never asked for.
    manager = logging.Logger.manager
    levels = {
        name: (logger.level, logger.disabled)
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root = logging.getLogger()
    root_level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(root_level)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            # A library's dictConfig disables every logger that existed: undo that too.
            logger.setLevel(levels.get(name, (logging.NOTSET, False))[0])
            logger.disabled = levels.get(name, (logging.NOTSET, False))[1]


@pytest.fixture(scope="session", autouse=True)
def _one_ca_bundle_per_process() -> Iterator[None]:
    """Share one default TLS context among the suite's ~800 httpx clients.

    httpx loads certifi's CA bundle for every client it builds (~30 ms of CPU each); no test
    talks TLS, and a shared context behaves the same for every client that asks for the default.
    """
    original = httpx_config.create_ssl_context

    @cache
    def default(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
        return original()  # reads SSL_CERT_FILE / SSL_CERT_DIR itself: they are the cache key

    def create_ssl_context(
        verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            return default(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        return original(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as patch:  # where the transports look the function up
        patch.setattr(httpx_transports, "create_ssl_context", create_ssl_context)
        yield


@pytest.fixture(scope="session", autouse=True)
def _feeds_parsed_in_process() -> Iterator[None]:
    """The suite parses hundreds of feeds in seconds: no test starts parse workers by chance.

    tests/watchers/text/test_parse_pool.py builds pools of its own.
    """
    from watchers.text.parse_pool import PARSE_POOL

    workers, PARSE_POOL.workers = PARSE_POOL.workers, 0
    yield
    PARSE_POOL.workers = workers
