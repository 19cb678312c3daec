"""Issue 11.1: an alert Slack refuses with an unknown error never blocks the queue.

slack-sdk's real WebClient against the fake Slack Web API. The refusal counts as an attempt;
after three the delivery is failed with Slack's reason, shown in `status`, /healthz and the
digest, while every later alert goes out at the first flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from bot.config import DigestSettings
from bot.destinations.flush import DeliveryLoop
from bot.digest.assemble import assemble_digest
from bot.digest.render import render_text
from bot.service.server import health_report
from bot.slack.delivery.client import build_slack_client
from bot.slack.delivery.destination import SlackDestination
from bot.status.terminal import status_text
from state.outbox import MAX_REFUSALS
from state.store import Store
from state.types import DeliveryState
from tests.factories import Clock, result, trial
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.state.helpers import pending_alerts, routed
from watchers.model import Topic

CHANNEL = "#fus-als-watch"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.now = lambda: clock().timestamp()
        yield fake


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def six_alerts(store: Store, clock: Clock) -> None:
    trials = [f"NCT0{4768972 + i}" for i in range(6)]
    where = {"slack": CHANNEL}
    routed(store, where).apply_poll(result(*map(trial, trials)), started=clock(), at=clock())
    changed = result(*(trial(t, overall_status="SUSPENDED") for t in trials))
    routed(store, where).apply_poll(changed, started=clock(), at=clock())


def flush(store: Store, clock: Clock, slack: FakeSlack) -> tuple[int, int, int]:
    client = build_slack_client("xoxb-refused-not-real", slack.base_url, timeout=5, sleep=print)
    loop = DeliveryLoop(SlackDestination(client, store.outbox), store.outbox, clock)
    report = loop.flush()
    clock.advance(minutes=1)
    return report.sent, report.failed, report.still_pending


@pytest.mark.parametrize(
    "code", ["restricted_action_read_only_channel", "invalid_blocks_format", "new_error_code"]
)
def test_an_unknown_refusal_is_retried_three_times_then_failed_and_never_blocks(
    store: Store, clock: Clock, slack: FakeSlack, code: str
) -> None:
    six_alerts(store, clock)
    first = pending_alerts(store.outbox, "slack")[0]
    slack.refused_alerts[first.id] = code  # e.g. a read-only channel; Slack keeps refusing
    # The refused one is the oldest: the five after it go out at the first flush anyway.
    assert flush(store, clock, slack) == (5, 0, 1)
    assert flush(store, clock, slack) == (0, 0, 1)  # refused again: still retried
    assert flush(store, clock, slack) == (0, 1, 0)  # the third refusal: failed for good
    assert flush(store, clock, slack) == (0, 0, 0)  # and never posted again
    assert len(slack.messages) == 5
    assert first.id not in slack.posted_alert_ids()

    status = store.status("ulefnersen")
    [failed] = status.failed_deliveries
    assert (failed.id, failed.state) == (first.id, DeliveryState.FAILED)
    assert failed.attempts == MAX_REFUSALS
    assert failed.last_error == f"Slack said {code}"
    shown = status_text(Topic("ulefnersen"), status)
    assert f"alert {first.id} to slack {CHANNEL}: Slack said {code}" in shown
    assert f"1 failed for good, latest 2026-11-01 08:02 UTC: Slack said {code}" in shown
    assert health_report(store, [], ["slack"])["failing_destinations"] == ["slack"]
    digest = assemble_digest(store, date(2026, 11, 1), DigestSettings(time="23:59"))
    assert f"1 failed for good, latest: Slack said {code}" in render_text(digest)


def test_transient_failures_do_not_count_toward_the_refusal_limit(
    store: Store, clock: Clock, slack: FakeSlack
) -> None:
    six_alerts(store, clock)
    for _ in range(MAX_REFUSALS + 1):  # Slack down: the flush stops, nothing is given up
        slack.fail_with_status(503)
        assert flush(store, clock, slack) == (0, 0, 6)
    slack.recover()
    first = pending_alerts(store.outbox, "slack")[0]
    slack.refused_alerts[first.id] = "restricted_action_read_only_channel"
    assert flush(store, clock, slack) == (5, 0, 1)  # one refusal after the outage: retried
    del slack.refused_alerts[first.id]
    assert flush(store, clock, slack) == (1, 0, 0)
    assert store.status("ulefnersen").failed_deliveries == ()
