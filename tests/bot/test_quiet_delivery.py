"""Quiet hours in the outbox loop: normal and low alerts wait, high ones post at once.

slack-sdk's real WebClient talks to the fake Slack Web API on 127.0.0.1; the clock is
injected. Quiet hours are 20:00-07:00 Europe/Zurich; in November Zurich is UTC+1, so 23:00
there is 22:00 UTC and the hours end at 06:00 UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.config import Settings
from bot.destinations import flush as flush_module
from bot.destinations.flush import DeliveryLoop
from bot.destinations.quiet import QuietHours
from bot.service.scheduler import build_scheduler
from bot.slack.delivery.client import build_slack_client
from bot.slack.delivery.destination import SlackDestination
from state.poll.write import add_alert
from state.schema import DeliveryRow
from state.store import Store
from state.types import Alert, DeliveryState, Severity
from tests.factories import Clock, result, trial
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.state.helpers import pending_alerts, routed

CHANNEL = "#fus-als-watch"
NIGHT = QuietHours.parse("20:00-07:00", "Europe/Zurich")
NOON = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)  # 12:00 in Zurich
LATE = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)  # 23:00 in Zurich
MORNING = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)  # 07:00 in Zurich: quiet hours are over
TRIALS = ("NCT04768972", "NCT04768973", "NCT04768974", "NCT04768975")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def slack(clock: Clock) -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.now = lambda: clock().timestamp()
        yield fake


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[Store]:
    s = Store.open(db_url)
    # The baseline, at noon: every later poll of a trial makes one alert.
    routed(s, {}).apply_poll(result(*(trial(t) for t in TRIALS)), started=clock(), at=clock())
    yield s
    s.close()


def loop(store: Store, clock: Clock, slack: FakeSlack) -> DeliveryLoop:
    client = build_slack_client("xoxb-quiet-not-real", slack.base_url, timeout=5, sleep=print)
    destination = SlackDestination(client, store.outbox)
    return DeliveryLoop(destination, store.outbox, clock, quiet=NIGHT)


def change(store: Store, clock: Clock, key: str, *, high: bool = False) -> Alert:
    """One alert for trial `key` now: high (suspended) or normal (enrollment)."""
    changed = {"overall_status": "SUSPENDED"} if high else {"enrollment": f"{clock().minute} (a)"}
    routed(store, {"slack": CHANNEL}).apply_poll(
        result(trial(key, **changed)), started=clock(), at=clock()
    )
    alert = pending_alerts(store.outbox, "slack")[-1]
    assert alert.change.severity is (Severity.HIGH if high else Severity.NORMAL)
    return alert


def rows(store: Store) -> list[DeliveryRow]:
    with Session(store.engine) as session:
        return list(session.exec(select(DeliveryRow).order_by(DeliveryRow.id)))


def test_normal_alerts_wait_through_quiet_hours_and_post_in_order_at_their_end(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    deliver = loop(store, clock, slack)
    clock.now = LATE
    first = change(store, clock, TRIALS[0])
    report = deliver.flush()
    assert (report.sent, report.held, report.still_pending) == (0, 1, 1)
    assert report.quiet_until == "07:00 Europe/Zurich" and report.errors == []
    assert slack.requests == []  # not even a history look-up
    [row] = rows(store)  # untouched: not leased, not attempted, not refused
    assert (row.state, row.attempts, row.refusals) == (DeliveryState.PENDING.value, 0, 0)
    assert (row.last_error, row.lease_token, row.posting_since) == (None, None, None)
    [health] = store.outbox.health(["slack"])
    assert not health.failing and health.pending == 1

    clock.advance(minutes=30)
    high = change(store, clock, TRIALS[1], high=True)
    assert deliver.flush().sent == 1
    assert slack.posted_alert_ids() == [high.id]  # at once, at 23:30

    clock.now = LATE + timedelta(hours=2)
    second = change(store, clock, TRIALS[2])
    clock.now = MORNING - timedelta(seconds=1)
    assert deliver.flush().held == 2
    assert slack.posted_alert_ids() == [high.id]

    clock.now = MORNING
    report = deliver.flush()
    assert (report.sent, report.held, report.still_pending, report.quiet_until) == (2, 0, 0, None)
    assert slack.posted_alert_ids() == [high.id, first.id, second.id]


def test_low_alerts_wait_too_and_a_day_outside_quiet_hours_is_untouched(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    deliver = loop(store, clock, slack)
    normal = change(store, clock, TRIALS[0])  # noon: no quiet hours
    assert deliver.flush().sent == 1 and slack.posted_alert_ids() == [normal.id]
    clock.now = LATE
    low = replace(normal.change, severity=Severity.LOW, title="A low one")
    with Session(store.engine) as session:
        add_alert(session, low, clock(), {"slack": CHANNEL})
        session.commit()
    assert deliver.flush().held == 1 and len(slack.posts) == 1
    clock.now = MORNING
    assert deliver.flush().sent == 1 and len(slack.posts) == 2


def test_a_restart_during_quiet_hours_changes_nothing(
    db_url: str, store: Store, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = LATE
    waiting = [change(store, clock, key) for key in TRIALS[:3]]
    assert loop(store, clock, slack).flush().held == 3
    before = [(r.state, r.attempts, r.lease_token, r.posting_since) for r in rows(store)]

    clock.now = LATE + timedelta(hours=3)  # 02:00: the process restarts on the same database
    restarted = Store.open(db_url)
    try:
        report = loop(restarted, clock, slack).flush()
        assert (report.sent, report.held) == (0, 3) and slack.posts == []
        assert [(r.state, r.attempts, r.lease_token, r.posting_since) for r in rows(store)] == (
            before
        )
        clock.now = MORNING + timedelta(minutes=1)
        assert loop(restarted, clock, slack).flush().sent == 3
    finally:
        restarted.close()
    assert slack.posted_alert_ids() == [a.id for a in waiting]


def test_a_high_follow_up_does_not_wait_for_a_parent_held_by_quiet_hours(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    deliver = loop(store, clock, slack)
    clock.now = LATE
    parent = change(store, clock, TRIALS[0])
    confirmed = replace(
        parent.change,
        title="Confirmed by the registry",
        severity=Severity.HIGH,
        thread_of=parent.id,
    )
    with Session(store.engine) as session:
        add_alert(session, confirmed, clock(), {"slack": CHANNEL})
        session.commit()
    follow_up = pending_alerts(store.outbox, "slack")[-1]

    assert deliver.flush().sent == 1
    assert slack.posted_alert_ids() == [follow_up.id]
    assert "thread_ts" not in slack.messages[0]  # on its own: its parent is not out yet
    clock.now = MORNING
    assert deliver.flush().sent == 1
    assert slack.posted_alert_ids() == [follow_up.id, parent.id]


def test_a_normal_follow_up_keeps_waiting_for_its_parent(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    deliver = loop(store, clock, slack)
    clock.now = LATE
    parent = change(store, clock, TRIALS[0])
    with Session(store.engine) as session:
        add_alert(session, replace(parent.change, thread_of=parent.id), clock(), {"slack": CHANNEL})
        session.commit()
    assert deliver.flush().held == 2 and slack.posts == []
    clock.now = MORNING
    assert deliver.flush().sent == 2
    parent_message, reply = slack.messages
    assert reply["thread_ts"] == parent_message["ts"]  # threaded as usual


def test_a_high_alert_behind_a_long_queue_of_waiting_ones_still_posts_at_once(
    store: Store, clock: Clock, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flush_module, "FLUSH_BATCH", 2)  # a flush looks at this many rows
    clock.now = LATE
    for key in TRIALS[:3]:
        change(store, clock, key)
    high = change(store, clock, TRIALS[3], high=True)
    assert loop(store, clock, slack).flush().sent == 1
    assert slack.posted_alert_ids() == [high.id]


def test_one_log_line_when_a_flush_holds_alerts_not_one_per_alert(
    store: Store, clock: Clock, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    deliver = loop(store, clock, slack)
    clock.now = LATE
    for key in TRIALS[:3]:
        change(store, clock, key)
    with caplog.at_level(logging.INFO, logger="bot.destinations.flush"):
        deliver.flush()
        deliver.flush()  # nothing new: nothing more to say
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "slack: quiet hours until 07:00 Europe/Zurich: 3 normal or low alert(s) waiting; "
        "high alerts still post"
    ]
    caplog.clear()
    clock.now = MORNING
    with caplog.at_level(logging.INFO, logger="bot.destinations.flush"):
        deliver.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "slack: quiet hours are over: posting the alerts that waited"
    ]


def test_the_service_flushes_within_a_minute_of_the_end_of_quiet_hours() -> None:
    settings = Settings.model_validate({"topics": [{"name": "ulefnersen"}]})
    scheduler = build_scheduler(settings, [], poll_job=print, flush_job=print, now=LATE)
    flush_job = scheduler.get_job("flush")
    assert flush_job is not None
    end = MORNING  # 07:00 Zurich, whatever the polls' intervals are
    fires = flush_job.trigger.get_next_fire_time(None, end)
    assert end <= fires <= end + timedelta(minutes=1)
