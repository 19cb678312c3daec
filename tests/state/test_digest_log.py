"""The digest's store side on a real database: the alerts of a window, the once-a-day ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from state.digest_log import DigestState
from state.store import Store
from state.types import DeliveryState
from tests.factories import Clock, deliver, result, trial
from tests.state.helpers import pending_alerts, routed

DAY = date(2026, 11, 22)
TEAM = ("clinical-team@example.org", "medical@example.org")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_alerts_between_is_half_open_and_carries_the_slack_state(store: Store) -> None:
    clock = Clock()
    slack = {"slack": "#fus-als-watch"}
    routed(store, slack).apply_poll(result(trial()), started=clock(), at=clock())
    times = []
    for status in ("COMPLETED", "TERMINATED", "SUSPENDED"):
        clock.advance(hours=1)
        times.append(clock())
        routed(store, slack).apply_poll(
            result(trial(overall_status=status)), started=clock(), at=clock()
        )
    first = pending_alerts(store.outbox, "slack")[0]
    assert first.delivery_id is not None
    deliver(store, first, clock())

    # Given in another zone: the store compares instants, not wall-clock text.
    zurich = ZoneInfo("Europe/Zurich")
    alerts = store.alerts_between(times[0].astimezone(zurich), times[2])

    assert [a.created_at for a in alerts] == times[:2]
    assert [a.state for a in alerts] == [DeliveryState.SENT, DeliveryState.PENDING]
    assert {a.destination for a in alerts} == {"slack"}


def test_alerts_for_the_console_only_have_no_slack_state(store: Store) -> None:
    clock = Clock()
    console = {"console": None}
    routed(store, console).apply_poll(result(trial()), started=clock(), at=clock())
    clock.advance(hours=1)
    routed(store, console).apply_poll(
        result(trial(overall_status="COMPLETED")), started=clock(), at=clock()
    )
    [alert] = store.alerts_between(clock() - timedelta(hours=1), clock() + timedelta(seconds=1))
    assert alert.destination is None and alert.state is None


def test_a_day_is_claimed_once_per_recipient_list(store: Store) -> None:
    clock = Clock()
    first = store.claim_digest(DAY, TEAM, at=clock())
    assert first.claimed and first.run.state is DigestState.SENDING

    # The same list in another order and case is the same list.
    again = store.claim_digest(DAY, [a.upper() for a in reversed(TEAM)], at=clock())
    assert not again.claimed and again.run.state is DigestState.SENDING

    assert store.claim_digest(DAY, ["someone-else@example.org"], at=clock()).claimed
    assert store.claim_digest(DAY + timedelta(days=1), TEAM, at=clock()).claimed


def test_a_sent_day_is_only_claimed_again_when_forced(store: Store) -> None:
    clock = Clock()
    assert store.claim_digest(DAY, TEAM, at=clock()).claimed
    store.mark_digest_sent(DAY, TEAM, at=clock(), alerts=3, message_id="<m1@example.org>")

    blocked = store.claim_digest(DAY, TEAM, at=clock())
    assert not blocked.claimed
    assert blocked.run.state is DigestState.SENT
    assert blocked.run.sent_at == clock() and blocked.run.alerts == 3

    forced = store.claim_digest(DAY, TEAM, at=clock.advance(hours=1), force=True)
    assert forced.claimed
    assert forced.run.state is DigestState.SENDING and forced.run.attempts == 2


def test_a_failed_send_can_be_claimed_again_the_same_day(store: Store) -> None:
    clock = Clock()
    store.claim_digest(DAY, TEAM, at=clock())
    store.mark_digest_failed(DAY, TEAM, error="connection refused")
    run = store.digest_run(DAY, TEAM)
    assert run is not None and run.state is DigestState.FAILED
    assert run.error == "connection refused"

    retry = store.claim_digest(DAY, TEAM, at=clock.advance(minutes=30))
    assert retry.claimed and retry.run.attempts == 2 and retry.run.error is None
    # ...and only one of two claimers of the failed day wins.
    assert not store.claim_digest(DAY, TEAM, at=clock()).claimed


def test_the_ledger_survives_a_restart(db_url: str) -> None:
    clock = Clock()
    first = Store.open(db_url)
    first.claim_digest(DAY, TEAM, at=clock())
    first.mark_digest_sent(DAY, TEAM, at=clock(), alerts=0, message_id="<m@example.org>")
    first.close()

    fresh = Store.open(db_url)
    try:
        assert not fresh.claim_digest(DAY, TEAM, at=clock()).claimed
    finally:
        fresh.close()


def test_of_concurrent_claimers_exactly_one_wins(db_url: str) -> None:
    clock = Clock()
    stores = [Store.open(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))

    def claim(store: Store) -> bool:
        barrier.wait()
        return store.claim_digest(DAY, TEAM, at=clock()).claimed

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            outcomes = list(pool.map(claim, stores))
    finally:
        for s in stores:
            s.close()
    assert sorted(outcomes) == [False, False, False, True]
