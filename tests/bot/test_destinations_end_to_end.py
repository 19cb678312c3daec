"""End to end: one alert to Slack, to an Apprise JSON webhook and to a webhook answering 500.

The real CLI runs `check` (each run a new App on the same database, as after a restart);
slack-sdk's WebClient talks to the fake Slack Web API and Apprise posts to a real receiver on
127.0.0.1. Slack and the working webhook get the alert exactly once; the failing one is
retried at every run, reported in `status`, /healthz and the digest, and gets it once it
recovers; nothing is posted twice. Its URL (from the environment) is never stored or shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.service.server import health_report
from state.schema import AlertRow, DeliveryRow
from state.store import Store
from tests.bot.test_end_to_end import CTGOV, Registry
from tests.bot.test_end_to_end import registry as registry  # the fixture
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.fakes.webhook import Webhooks, webhooks

TOKEN = "xoxb-destinations-not-a-real-token"
HOOK_SECRET = "s3cr3t-hook-path-token-0451"
DOWN_PATH = f"/hooks/{HOOK_SECRET}"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhooks() as receiver:
        yield receiver


def write_config(tmp_path: Path, db_url: str, slack_url: str, hooks: Webhooks) -> Path:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["ION363"]
trials = ["NCT04768972"]
slack_channel = "#fus-als-watch"

[sources.clinicaltrials]
base_url = "{CTGOV}"

[slack]
api_url = "{slack_url}"
channel = "#trial-alerts"

[[notify]]
name = "ok-hook"
url = "json://{hooks.base}/ok"

[[notify]]
name = "down-hook"
url_env = "DOWN_HOOK_URL"
topics = ["ulefnersen"]
min_severity = "normal"

[digest]
timezone = "UTC"

[http]
min_interval = 0.001
max_retries = 1
backoff = 0.001
"""
    )
    return path


def run(hooks: Webhooks, *args: str) -> str:
    env = {"SLACK_BOT_TOKEN": TOKEN, "DOWN_HOOK_URL": f"json://{hooks.base}{DOWN_PATH}"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    assert HOOK_SECRET not in result.output  # neither in the summary nor in the logs
    return result.output


def stored_text(db_url: str) -> str:
    """Every row of the alert and delivery tables, as text."""
    store = Store.open(db_url)
    try:
        with Session(store.engine) as session:
            rows: list[Any] = [*session.exec(select(AlertRow)), *session.exec(select(DeliveryRow))]
            return repr([row.model_dump() for row in rows])
    finally:
        store.close()


def test_one_alert_reaches_slack_and_two_webhooks_once_each(
    tmp_path: Path, db_url: str, registry: Registry, slack: FakeSlack, hooks: Webhooks
) -> None:
    config = str(write_config(tmp_path, db_url, slack.base_url, hooks))
    check = ("check", "--config", config)
    hooks.status[DOWN_PATH] = 500

    run(hooks, *check)  # the silent baseline
    assert slack.posts == [] and hooks.received == {}

    registry.status("COMPLETED")
    out = run(hooks, *check)
    assert len(slack.posts) == 1
    [ok] = hooks.bodies("/ok")
    assert "ulefnersen" in ok["title"]
    assert "Status: Active, not recruiting → Completed" in ok["message"]
    assert "https://clinicaltrials.gov/study/NCT04768972" in ok["message"]
    assert len(hooks.bodies(DOWN_PATH)) == 1  # tried, refused with 500
    assert "delivered to slack: 1" in out
    assert "delivered to ok-hook: 1" in out
    assert "delivered to down-hook: 0; failed: 0; still pending: 1" in out

    # Restarted (a new App on the same database), nothing new: only the failing one is retried.
    run(hooks, *check)
    assert len(slack.posts) == 1 and len(hooks.bodies("/ok")) == 1
    assert len(hooks.bodies(DOWN_PATH)) == 2

    status = run(hooks, "status", "ulefnersen", "--config", config)
    assert "down-hook: FAILING" in status
    assert "1 waiting" in status
    assert "error=500" in status
    assert "ok-hook: ok" in status and "slack: ok" in status
    digest = run(hooks, "digest", "--config", config)
    assert "FAILING: down-hook" in digest
    store = Store.open(db_url)
    try:
        report = health_report(store, ["clinicaltrials"], ["slack", "ok-hook", "down-hook"])
    finally:
        store.close()
    assert report["failing_destinations"] == ["down-hook"]
    assert report["destinations"]["down-hook"]["pending"] == 1
    assert report["destinations"]["ok-hook"]["ok"] is True

    # The webhook recovers: it gets the alert at the next run, and nobody gets it twice.
    hooks.status[DOWN_PATH] = 200
    run(hooks, *check)
    run(hooks, *check)
    assert len(hooks.bodies(DOWN_PATH)) == 3
    assert hooks.bodies(DOWN_PATH)[-1]["message"] == ok["message"]
    assert len(slack.posts) == 1 and len(hooks.bodies("/ok")) == 1
    assert "down-hook: ok" in run(hooks, "status", "ulefnersen", "--config", config)
    assert HOOK_SECRET not in stored_text(db_url)
