"""Slack delivery against the fake Slack Web API: limits, errors, fallbacks, threads, recovery.

slack-sdk's real WebClient talks to tests/fakes/slack_api.py on 127.0.0.1; the client's sleep
is injected and recorded, so Retry-After and backoff are asserted without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlmodel import Session

from bot.destinations.flush import DeliveryLoop
from bot.slack.delivery.client import build_slack_client
from bot.slack.delivery.destination import SlackDestination
from bot.status.terminal import status_text
from state.outbox import DEFAULT_DELIVERY_LEASE
from state.poll.write import add_alert
from state.store import Store
from state.types import Alert, DeliveryState
from tests.bot.service_helpers import free_port
from tests.factories import Clock, result, trial
from tests.fakes.slack_api import FakeSlack, error, fake_slack, rate_limited
from tests.state.helpers import pending_alerts, routed
from watchers.model import Topic

TOKEN = "xoxb-delivery-not-a-real-token"
TOPIC_CHANNEL, DEFAULT_CHANNEL = "#fus-als-watch", "#trial-alerts"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.now = lambda: clock().timestamp()  # message ts follow the injected clock
        yield fake


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


class Sleeps(list[float]):
    """The client's sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def deliverer(
    store: Store, clock: Clock, base_url: str, sleeps: Sleeps | None = None
) -> DeliveryLoop:
    sleep = Sleeps() if sleeps is None else sleeps
    client = build_slack_client(TOKEN, base_url, timeout=5, sleep=sleep)
    slack = SlackDestination(client, store.outbox, default_channel=DEFAULT_CHANNEL)
    return DeliveryLoop(slack, store.outbox, clock)


def make_alerts(
    store: Store, clock: Clock, count: int = 1, channel: str = TOPIC_CHANNEL
) -> list[Alert]:
    trials = [f"NCT0{4768972 + i}" for i in range(count)]
    where = {"slack": channel}
    routed(store, where).apply_poll(
        result(*(trial(t) for t in trials)), started=clock(), at=clock()
    )
    changed = result(*(trial(t, overall_status="SUSPENDED") for t in trials))
    routed(store, where).apply_poll(changed, started=clock(), at=clock())
    return pending_alerts(store.outbox, "slack")


def follow_up(store: Store, clock: Clock, parent: Alert) -> Alert:
    """A follow-up alert in the parent's thread (as the claim confirmation writes them)."""
    change = replace(parent.change, title="Confirmed by the registry", thread_of=parent.id)
    with Session(store.engine) as session:
        add_alert(session, change, clock(), {"slack": TOPIC_CHANNEL})
        session.commit()
    return pending_alerts(store.outbox, "slack")[-1]


def methods(fake: FakeSlack) -> list[str]:
    return [method for method, _, _ in fake.requests]


def test_post_carries_the_alert_id_and_is_marked_with_slacks_ts(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    [alert] = make_alerts(store, clock)
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.failed, report.still_pending) == (1, 0, 0)
    [message] = slack.messages
    assert message["metadata"] == {
        "event_type": "trialwatch_alert",
        "event_payload": {"alert_id": alert.id, "delivery_id": alert.delivery_id},
    }
    assert slack.posts[0]["unfurl_links"] is False
    assert pending_alerts(store.outbox, "slack") == []
    assert store.outbox.thread_parent(alert.id, "slack").ts == message["ts"]


def test_429_waits_retry_after_once_then_posts(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    make_alerts(store, clock)
    slack.reply_next("chat.postMessage", rate_limited(7))
    sleeps = Sleeps()
    report = deliverer(store, clock, slack.base_url, sleeps).flush()
    assert sleeps == [7.0]
    assert report.sent == 1 and len(slack.messages) == 1


def test_429_again_stops_the_flush_and_keeps_everything_pending(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    make_alerts(store, clock, 3)
    slack.reply_next("chat.postMessage", rate_limited(3), rate_limited(3))
    sleeps = Sleeps()
    report = deliverer(store, clock, slack.base_url, sleeps).flush()
    assert sleeps == [3.0]  # honoured once, not hammered
    assert methods(slack).count("chat.postMessage") == 2
    assert (report.sent, report.still_pending) == (0, 3)
    first = pending_alerts(store.outbox, "slack")[0]
    assert report.errors == [f"alert {first.id}: rate limited by Slack (retry after 3s)"]
    assert all(a.state is DeliveryState.PENDING for a in pending_alerts(store.outbox, "slack"))
    # Next flush, Slack lets us through: all three go out, once each.
    assert deliverer(store, clock, slack.base_url).flush().sent == 3
    assert len(slack.messages) == 3


def test_a_very_long_retry_after_is_left_to_the_next_flush(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    make_alerts(store, clock, 2)
    slack.reply_next("chat.postMessage", rate_limited(600))
    sleeps = Sleeps()
    report = deliverer(store, clock, slack.base_url, sleeps).flush()
    assert sleeps == [] and report.still_pending == 2


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_with_backoff_then_stays_pending(
    store: Store, clock: Clock, slack: FakeSlack, status: int
) -> None:
    make_alerts(store, clock, 2)
    slack.fail_with_status(status)
    sleeps = Sleeps()
    report = deliverer(store, clock, slack.base_url, sleeps).flush()
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]  # exponential backoff
    assert methods(slack).count("chat.postMessage") == 3  # one post, two retries, then stop
    assert (report.sent, report.failed, report.still_pending) == (0, 0, 2)
    first = pending_alerts(store.outbox, "slack")[0]
    assert (first.attempts, first.last_error) == (1, f"Slack answered HTTP {status}")
    slack.recover()
    assert deliverer(store, clock, slack.base_url).flush().sent == 2


def test_connection_refused_is_retried_then_stays_pending(store: Store, clock: Clock) -> None:
    make_alerts(store, clock)
    port = free_port()  # a port nobody listens on
    sleeps = Sleeps()
    report = deliverer(store, clock, f"http://127.0.0.1:{port}/api/", sleeps).flush()
    assert len(sleeps) == 2
    assert report.still_pending == 1
    [pending] = pending_alerts(store.outbox, "slack")
    assert pending.last_error is not None and pending.last_error.startswith("could not reach Slack")


@pytest.mark.parametrize("code", ["invalid_blocks", "msg_too_long", "msg_blocks_too_long"])
def test_message_errors_fail_the_delivery_with_the_reason_and_never_fall_back(
    store: Store, clock: Clock, slack: FakeSlack, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    make_alerts(store, clock, 2)
    slack.reply_next("chat.postMessage", error(code))
    with caplog.at_level(logging.WARNING):
        report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.failed, report.rerouted) == (1, 1, 0)  # the next one went out
    [failed] = store.status("ulefnersen").failed_deliveries
    assert (failed.channel, failed.last_error) == (TOPIC_CHANNEL, f"Slack said {code}")
    assert f"Slack said {code}" in caplog.text
    assert all(m["channel"] == slack.channel_id(TOPIC_CHANNEL) for m in slack.messages)


def test_auth_errors_pause_delivery_until_the_token_works_again(
    store: Store, clock: Clock, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11.12: alerts refused for invalid_auth are posted once the token is fixed."""
    make_alerts(store, clock, 3)
    slack.revoked.add(TOKEN)
    for _ in range(2):  # flushes while the token is broken: paused, nothing is given up
        report = deliverer(store, clock, slack.base_url).flush()
        assert (report.sent, report.failed, report.still_pending) == (0, 0, 3)
    assert methods(slack).count("chat.postMessage") == 2  # one try per flush, not hammered
    first = pending_alerts(store.outbox, "slack")[0]
    assert first.last_error == "Slack said invalid_auth"
    assert store.status("ulefnersen").failed_deliveries == ()
    assert "delivery paused" in caplog.text
    assert TOKEN not in caplog.text
    slack.revoked.clear()  # the token works again
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.failed, report.still_pending) == (3, 0, 0)
    assert len(slack.messages) == 3


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "is_archived"])
def test_a_refusing_topic_channel_falls_back_to_the_default_channel(
    store: Store, clock: Clock, slack: FakeSlack, code: str
) -> None:
    [alert] = make_alerts(store, clock)
    slack.channel_errors[TOPIC_CHANNEL] = code
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.rerouted, report.failed) == (1, 1, 0)
    [message] = slack.messages
    assert message["channel"] == slack.channel_id(DEFAULT_CHANNEL)
    assert "Meant for #fus-als-watch" in message["blocks"][0]["elements"][0]["text"]
    assert message["text"].startswith("(meant for #fus-als-watch)")
    assert message["metadata"]["event_payload"]["alert_id"] == alert.id
    [shown] = store.status("ulefnersen").failed_deliveries
    assert (shown.state, shown.channel) == (DeliveryState.SENT, DEFAULT_CHANNEL)
    reason = f"Slack said {code} in {TOPIC_CHANNEL}; re-routed to {DEFAULT_CHANNEL}"
    assert shown.last_error == reason
    assert reason in status_text(Topic("ulefnersen"), store.status("ulefnersen"))
    assert pending_alerts(store.outbox, "slack") == []


def test_no_fallback_loop_when_the_default_channel_refuses_too(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    make_alerts(store, clock)
    slack.channel_errors[TOPIC_CHANNEL] = "channel_not_found"
    slack.channel_errors[DEFAULT_CHANNEL] = "not_in_channel"
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.rerouted, report.failed) == (0, 1, 1)
    assert slack.messages == []
    [failed] = store.status("ulefnersen").failed_deliveries
    assert failed.state is DeliveryState.FAILED
    assert failed.last_error == (
        "Slack said channel_not_found in #fus-als-watch; re-routed to #trial-alerts; "
        "then Slack said not_in_channel in #trial-alerts"
    )


def test_an_alert_for_the_default_channel_itself_is_not_rerouted(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    make_alerts(store, clock, channel=DEFAULT_CHANNEL)
    slack.channel_errors[DEFAULT_CHANNEL] = "is_archived"
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.rerouted, report.failed) == (0, 1)


def test_follow_up_is_posted_in_the_parents_thread(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    [parent] = make_alerts(store, clock)
    follow_up(store, clock, parent)
    assert deliverer(store, clock, slack.base_url).flush().sent == 2
    first, reply = slack.messages
    assert reply["thread_ts"] == first["ts"] and reply["channel"] == first["channel"]
    assert "thread_ts" not in first


def test_follow_up_waits_for_its_parents_ts(store: Store, clock: Clock, slack: FakeSlack) -> None:
    [parent] = make_alerts(store, clock)
    child = follow_up(store, clock, parent)
    assert parent.delivery_id is not None
    busy = store.outbox.take(parent.delivery_id, at=clock(), ttl=DEFAULT_DELIVERY_LEASE)
    assert busy is not None  # another deliverer is posting the parent right now
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.still_pending) == (0, 2)
    assert [a.id for a in pending_alerts(store.outbox, "slack")] == [parent.id, child.id]
    store.outbox.mark_sent(
        parent.delivery_id, at=clock(), ref="1793000000.000001", token=busy.token
    )
    assert deliverer(store, clock, slack.base_url).flush().sent == 1
    [reply] = slack.messages
    assert reply["thread_ts"] == "1793000000.000001"


def test_follow_up_of_a_rerouted_parent_joins_it_in_the_default_channel(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    [parent] = make_alerts(store, clock)
    follow_up(store, clock, parent)
    slack.channel_errors[TOPIC_CHANNEL] = "is_archived"
    deliverer(store, clock, slack.base_url).flush()
    first, reply = slack.messages
    assert first["channel"] == reply["channel"] == slack.channel_id(DEFAULT_CHANNEL)
    assert reply["thread_ts"] == first["ts"]


def test_an_unanswered_post_is_found_in_history_not_posted_twice(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    [alert] = make_alerts(store, clock)
    slack.unanswered["chat.postMessage"] = 1  # Slack posts it; the answer never arrives
    report = deliverer(store, clock, slack.base_url).flush()
    assert report.sent == 0 and "no answer from Slack" in report.errors[0]
    assert len(slack.messages) == 1
    clock.advance(minutes=1)
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.sent, report.found_posted) == (1, 1)
    assert len(slack.messages) == 1
    # The channel was never posted to before: its id came from conversations.list.
    assert methods(slack)[-2:] == ["conversations.list", "conversations.history"]
    assert store.outbox.thread_parent(alert.id, "slack").ts == slack.messages[0]["ts"]


def test_an_unanswered_thread_reply_is_looked_up_in_its_thread(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    [parent] = make_alerts(store, clock)
    deliverer(store, clock, slack.base_url).flush()
    follow_up(store, clock, parent)
    slack.unanswered["chat.postMessage"] = 1
    deliverer(store, clock, slack.base_url).flush()
    report = deliverer(store, clock, slack.base_url).flush()
    assert report.found_posted == 1 and len(slack.messages) == 2
    assert "conversations.replies" in methods(slack)


def test_when_history_cannot_be_read_it_posts_again_and_says_so(
    store: Store, clock: Clock, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The documented remaining window: without channels:history a lost answer double-posts."""
    make_alerts(store, clock)
    slack.unanswered["chat.postMessage"] = 1
    deliverer(store, clock, slack.base_url).flush()
    slack.denied["conversations.history"] = "missing_scope"
    with caplog.at_level(logging.WARNING):
        report = deliverer(store, clock, slack.base_url).flush()
    assert report.sent == 1 and len(slack.messages) == 2
    assert "could not be checked (Slack said missing_scope)" in caplog.text
    assert "may appear twice" in caplog.text


def test_an_unverified_attempt_stays_unverified_until_checked(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    """History unreadable and Slack down: the next try must still look before posting."""
    make_alerts(store, clock)
    slack.unanswered["chat.postMessage"] = 1
    deliverer(store, clock, slack.base_url).flush()
    slack.fail_with_status(503)
    deliverer(store, clock, slack.base_url).flush()  # the check and the post both fail
    slack.recover()
    report = deliverer(store, clock, slack.base_url).flush()
    assert (report.found_posted, len(slack.messages)) == (1, 1)
