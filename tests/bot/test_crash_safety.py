"""SIGKILL at every step of a poll and of a delivery: on restart no alert is lost or posted twice.

Each crash runs in a real process (tests/fakes/driver.py) against this test's database (SQLite
and PostgreSQL), a respx-mocked registry inside that process and the fake Slack served here.
The driver kills itself with SIGKILL at the chosen step; the restart is a fresh App on the
same database, later than any lease the dead process held.
"""

from __future__ import annotations

import logging
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.types import DeliveryState
from tests.bot.world import DEFAULT_CHANNEL, World
from tests.fakes.driver import CRASH_POINTS
from tests.fakes.slack_api import FakeSlack, fake_slack

# Two topics: one routed to its own channel, one to the default; both trials complete.
TOPICS = {"ulefnersen": "#fus-als-watch", "tofersen": None}
# Where the dead process had already got Slack to post: the restart must find it in history.
POSTED_BEFORE_DYING = {"during_post": 1, "after_post": 1, "during_history": 1}
SENT_BEFORE_DYING = {"after_first_sent": 1}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def crash(world: World, point: str) -> None:
    process = world.spawn(f"crash-{point}", crash=point)
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, err


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_sigkill_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, db_url: str, slack: FakeSlack, point: str
) -> None:
    world = World(tmp_path, db_url, slack, TOPICS)
    world.run()  # baseline: silent
    assert slack.messages == []

    world.later(hours=1).change(*TOPICS, status="COMPLETED")
    if point == "during_history":
        crash(world, "during_post")  # first a crash with the post's answer unread ...
        world.later(minutes=20)
    crash(world, point)  # ... then (or only) the crash at this step
    posted = len(slack.messages)
    assert posted == POSTED_BEFORE_DYING.get(point, SENT_BEFORE_DYING.get(point, 0))

    report = world.later(minutes=20).run()  # the restart, past every lease the dead one held
    world.later(hours=1).run()  # and a quiet cycle after it

    alerts = world.alerts()
    assert sorted(alerts.values()) == sorted(world.trials.values())  # one alert per trial
    counts = Counter(slack.posted_alert_ids())
    assert counts == Counter(dict.fromkeys(alerts, 1)), "lost or duplicated"
    assert world.delivery_states() == [DeliveryState.SENT.value] * 2
    assert set(world.snapshot_statuses().values()) == {"COMPLETED"}
    channels = sorted(m["channel"] for m in slack.messages)
    assert channels == sorted(
        [slack.channel_id("#fus-als-watch"), slack.channel_id(DEFAULT_CHANNEL)]
    )
    [delivered] = report["deliveries"]
    if point in POSTED_BEFORE_DYING:  # recognised in the channel's history, not re-posted
        assert delivered["found_posted"] == 1


def test_without_history_scope_a_lost_answer_double_posts_once(
    tmp_path: Path, db_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The remaining window (README): no channels:history scope, crash between ok and commit."""
    world = World(tmp_path, db_url, slack, {"ulefnersen": "#fus-als-watch"})
    world.run()
    world.later(hours=1).change("ulefnersen", status="COMPLETED")
    crash(world, "after_post")
    slack.denied["conversations.history"] = "missing_scope"
    with caplog.at_level(logging.WARNING):
        world.later(minutes=20).run()
    [alert_id] = world.alerts()
    assert slack.posted_alert_ids() == [alert_id, alert_id]
    assert "could not be checked (Slack said missing_scope)" in caplog.text
