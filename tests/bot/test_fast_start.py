"""`trialwatch --help` and `trialwatch status` load only what they use (issue 10: a fast start).

Each command runs in a fresh interpreter, which then lists the modules it imported: a module
that `status` never needs (HTTP servers, Slack, Alembic...) showing up there is what made the
start slow, whatever the machine's speed. No timing is asserted.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from state.migrate import current_revision, head_revision
from state.store import Store, create_store_engine
from tests.factories import Clock, result, trial
from tests.state.helpers import routed

# What the service needs and `check` does not, when no Slack token or [[notify]] is set.
NOT_FOR_CHECK = (
    "alembic",  # only when the schema is behind
    "apprise",
    "apscheduler",
    "jinja2",
    "slack_sdk",
    "starlette",
    "uvicorn",
    "bot.destinations.notify",
    "bot.service",
    "bot.slack.actions_endpoint",
    "bot.slack.commands",
    "bot.slack.delivery.client",
    "bot.slack.delivery.destination",
    "bot.slack.signed_requests",
    "bot.slack.socket_mode",
    "bot.slack.triage",
)
# What `check` and `run` need and a read of stored state does not: the HTTP client, feed
# parsing, the watchers' fetch code and the poll / outbox / digest code. The schema (SQLModel,
# hence sqlalchemy.orm) is the one definition of the tables the reads are built on: about
# 90 ms, with `status` still well under 0.5 s on a small database.
NOT_FOR_STATUS = (
    *NOT_FOR_CHECK,
    "defusedxml",
    "feedparser",
    "httpx",
    "bot.app",
    "bot.destinations.flush",
    "bot.slack.delivery.history",  # limits.py (what render.py cuts to) costs < 1 ms
    "state.store",
    "watchers.ctgov.watcher",
    "watchers.feeds.watcher",
    "watchers.net.http",
)
NOT_FOR_HELP = (*NOT_FOR_STATUS, "sqlalchemy", "sqlmodel", "state.schema")

# Runs the CLI as the console script does, then prints the imported modules' names as JSON.
RUN_AND_LIST = """
import json, sys
from bot.cli import app
try:
    app(sys.argv[1:], prog_name="trialwatch")
except SystemExit as exc:
    code = exc.code
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


# Runs `trialwatch ARGS` through the console script's main(), then says whether the cyclic
# garbage collector was on when the command ended.
RUN_MAIN_AND_TELL_GC = """
import gc, sys
from bot.cli import main
sys.argv = ["trialwatch", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("collector " + ("on" if gc.isenabled() else "off"))
"""


def run_cli(*args: str) -> tuple[int, str, set[str]]:
    """Exit code, output before the module list, and the modules the command imported."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
        check=True,
    )
    output, _, listing = done.stdout.rpartition("\n{")
    found = json.loads("{" + listing)
    return found["code"], output, set(found["modules"])


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


def config_for(tmp_path: Path, url: str, more: str = "") -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f'[storage]\nurl = "{url}"\n[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\n' + more
    )
    return str(path)


def closed_port() -> int:
    """A loopback port nothing listens on: a poll there is refused at once, offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def store_one_trial(url: str) -> str:
    """The database at `url` at the newest schema, with one trial stored; its URL."""
    store = Store.open(url)
    clock = Clock()
    routed(store, {"console": None}).apply_poll(result(trial()), started=clock(), at=clock())
    store.close()
    return url


@pytest.fixture
def stored_trial(db_url: str) -> str:
    """A small database (SQLite, then PostgreSQL) with one trial stored."""
    return store_one_trial(db_url)


@pytest.fixture
def stored_trial_sqlite(sqlite_url: str) -> str:
    """The same on SQLite only, for what does not depend on the database."""
    return store_one_trial(sqlite_url)


def one_migration_back(url: str) -> None:
    """Undo the newest migration for real: the schema an older trialwatch left behind."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("state") / "migrations"))
    engine = create_store_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    engine.dispose()


def test_help_loads_no_database_http_or_slack_library() -> None:
    code, output, modules = run_cli("--help")
    assert code == 0
    assert "status" in output and "check" in output
    assert loaded(modules, NOT_FOR_HELP) == []


def test_status_reads_the_store_without_http_slack_or_alembic(
    tmp_path: Path, stored_trial: str
) -> None:
    config = config_for(tmp_path, stored_trial)
    code, output, modules = run_cli("status", "ion363", "--config", config)
    assert code == 0
    assert "NCT04768972" in output and "Status: Active, not recruiting" in output
    assert loaded(modules, NOT_FOR_STATUS) == []


def test_status_on_a_schema_one_migration_behind_migrates_it_first(
    tmp_path: Path, stored_trial: str
) -> None:
    one_migration_back(stored_trial)
    engine = create_store_engine(stored_trial)
    assert current_revision(engine) != head_revision()
    config = config_for(tmp_path, stored_trial)
    code, output, modules = run_cli("status", "ulefnersen", "--config", config)
    assert code == 0 and "NCT04768972" in output
    assert "alembic" in modules  # it had something to do, so it loaded the migrator
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_check_without_slack_or_notify_loads_neither(tmp_path: Path, stored_trial: str) -> None:
    feed = '[http]\nmax_retries = 0\n[[sources.feeds]]\nname = "local"\n'
    feed += f'url = "http://127.0.0.1:{closed_port()}/feed.xml"\n'
    config = config_for(tmp_path, stored_trial, feed)
    code, output, modules = run_cli("check", "--config", config)
    assert code == 0
    assert "1 failed" in output  # it polled the feed (refused) and delivered to the console
    assert "bot.app" in modules and "watchers.feeds.watcher" in modules
    assert loaded(modules, NOT_FOR_CHECK) == []


def test_a_quick_command_skips_garbage_collection_one_that_polls_collects(
    tmp_path: Path, stored_trial_sqlite: str
) -> None:
    """Start-up makes next to no garbage (`status` runs without the cyclic collector), but a
    poll or the service may run long: their memory stays bounded by collecting again."""
    feed = '[http]\nmax_retries = 0\n[[sources.feeds]]\nname = "local"\n'
    feed += f'url = "http://127.0.0.1:{closed_port()}/feed.xml"\n'
    config = config_for(tmp_path, stored_trial_sqlite, feed)
    said = {}
    for args in (("status", "ulefnersen"), ("check",)):
        done = subprocess.run(
            [sys.executable, "-c", RUN_MAIN_AND_TELL_GC, *args, "--config", config],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
            check=True,
        )
        said[args[0]] = done.stdout.splitlines()[-1]
    assert said == {"status": "collector off", "check": "collector on"}
