"""End to end: quiet hours from the config file to Slack and an Apprise webhook, with a clock.

The App is built from a config file (`open_app`) with an injected clock; ClinicalTrials.gov is
respx-mocked, slack-sdk's real WebClient talks to the fake Slack Web API and Apprise posts to
a real receiver on 127.0.0.1. Quiet hours are 20:00-07:00 Europe/Zurich (UTC+1 in November).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.cli.check_summary import summary_lines
from bot.config import load_settings
from bot.slack.commands import StatusCommand
from bot.slack.delivery.client import build_slack_client
from bot.status.terminal import status_text
from tests.bot.test_end_to_end import CTGOV, Registry
from tests.bot.test_end_to_end import registry as registry  # the fixture
from tests.factories import Clock, result, trial
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.fakes.webhook import Webhooks, webhooks
from tests.state.helpers import routed

NOON = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)  # 12:00 in Zurich
LATE = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)  # 23:00 in Zurich
MORNING = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)  # 07:00 in Zurich
WAITING = "quiet hours until 07:00 Europe/Zurich: 1 alert waiting"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def slack(clock: Clock) -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.now = lambda: clock().timestamp()
        yield fake


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhooks() as receiver:
        yield receiver


def config_file(tmp_path: Path, db_url: str, tables: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
trials = ["NCT04768972"]
slack_channel = "#fus-als-watch"

[sources.clinicaltrials]
base_url = "{CTGOV}"
history = false

[http]
min_interval = 0.001
max_retries = 1
backoff = 0.001
{tables}
"""
    )
    return str(path)


def test_slack_quiet_hours_defer_a_normal_alert_to_their_end_while_a_high_one_posts_at_once(
    tmp_path: Path, db_url: str, registry: Registry, slack: FakeSlack, clock: Clock
) -> None:
    path = config_file(
        tmp_path,
        db_url,
        f'[slack]\napi_url = "{slack.base_url}"\nchannel = "#trial-alerts"\n'
        'quiet_hours = "20:00-07:00"\ntimezone = "Europe/Zurich"\n',
    )
    loaded = load_settings(path, env={}, cwd=tmp_path)
    client = build_slack_client("xoxb-quiet-e2e-not-real", slack.base_url, timeout=5)
    with open_app(loaded, clock=clock, slack_client=client) as app:
        app.check()  # the silent baseline, at noon
        assert slack.posts == []

        clock.now = LATE
        registry.study["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 120
        report = app.check()
        assert slack.posts == []
        summary = summary_lines(report, width=None, any_source=True)
        assert f"delivered to slack: 0; failed: 0; still pending: 1; {WAITING}" in summary
        assert f"slack: ok, last delivery never; {WAITING}" in status_of(app)
        card = json.dumps(StatusCommand.for_app(app).answer("ulefnersen"))
        assert WAITING in card

        clock.advance(minutes=30)
        registry.status("TERMINATED")
        app.check()
        [terminated] = slack.posts
        assert "Terminated" in terminated["text"]  # at 23:30, despite quiet hours

        clock.now = MORNING - timedelta(seconds=1)
        app.deliver()
        assert len(slack.posts) == 1

        clock.now = MORNING
        app.deliver()  # the service's minute flush
        assert len(slack.posts) == 2
        assert "Enrollment" in slack.posts[1]["text"]
        assert "quiet hours" not in status_of(app)


def status_of(app: App) -> str:
    topic = app.resolve_topic("ulefnersen")
    return status_text(topic, app.topic_status(topic.name), now=app.clock())


def test_a_notify_destination_keeps_its_own_quiet_hours(
    tmp_path: Path, db_url: str, hooks: Webhooks, clock: Clock
) -> None:
    path = config_file(
        tmp_path,
        db_url,
        f'[[notify]]\nname = "night-desk"\nurl = "json://{hooks.base}/night"\n'
        'quiet_hours = "20:00-07:00"\ntimezone = "Europe/Zurich"\n\n'
        f'[[notify]]\nname = "pager"\nurl = "json://{hooks.base}/pager"\n',
    )
    with open_app(load_settings(path, env={}, cwd=tmp_path), clock=clock) as app:
        routes = app.destinations_for(app.resolve_topic("ulefnersen"))
        routed(app.store, routes).apply_poll(result(trial()), started=clock(), at=clock())

        clock.now = LATE
        normal = result(trial(enrollment="120 (estimated)"))
        routed(app.store, routes).apply_poll(normal, started=clock(), at=clock())
        app.deliver()
        assert hooks.bodies("/night") == []
        assert len(hooks.bodies("/pager")) == 1  # a destination without quiet hours: at once
        assert f"night-desk: ok, last delivery never; {WAITING}" in status_of(app)
        assert "pager: ok" in status_of(app)

        clock.advance(hours=1)
        high = result(trial(enrollment="120 (estimated)", overall_status="SUSPENDED"))
        routed(app.store, routes).apply_poll(high, started=clock(), at=clock())
        app.deliver()
        [suspended] = hooks.bodies("/night")
        assert "Suspended" in suspended["message"]

        clock.now = MORNING
        app.deliver()
        night = hooks.bodies("/night")
        assert len(night) == 2 and "Enrollment" in night[1]["message"]
        assert len(hooks.bodies("/pager")) == 2  # nothing twice
