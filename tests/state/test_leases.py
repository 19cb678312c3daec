"""Poll leases on a real database: one poller per (topic, source), and not again moments later."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import PollOutcome
from tests.factories import Clock, result, trial
from tests.state.helpers import routed, take
from watchers.model import SourceResult, Topic

TOPIC, SOURCE = "ulefnersen", "clinicaltrials"
TTL = timedelta(minutes=15)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_held_lease_is_refused_until_released_or_expired(store: Store) -> None:
    clock = Clock()
    assert take(store.poll_leases, TOPIC, SOURCE, owner="a", at=clock(), ttl=TTL)  # first: INSERT
    assert not take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL)
    assert take(store.poll_leases, "tofersen", SOURCE, owner="b", at=clock(), ttl=TTL)
    store.poll_leases.release(TOPIC, SOURCE, owner="b")  # not b's to give back
    assert not take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL)
    store.poll_leases.release(TOPIC, SOURCE, owner="a")
    assert take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL)
    # b dies holding it: after its time to live anyone may poll again.
    clock.advance(minutes=14)
    assert not take(store.poll_leases, TOPIC, SOURCE, owner="c", at=clock(), ttl=TTL)
    clock.advance(minutes=2)
    assert take(store.poll_leases, TOPIC, SOURCE, owner="c", at=clock(), ttl=TTL)


def test_min_gap_refuses_a_pair_polled_moments_ago(store: Store) -> None:
    clock = Clock()
    assert take(store.poll_leases, TOPIC, SOURCE, owner="a", at=clock(), ttl=TTL)
    routed(store, {}).apply_poll(result(trial()), started=clock(), at=clock())
    store.poll_leases.release(TOPIC, SOURCE, owner="a")
    gap = timedelta(minutes=30)
    clock.advance(minutes=10)
    assert not take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL, min_gap=gap)
    assert take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL)  # no gap asked
    store.poll_leases.release(TOPIC, SOURCE, owner="b")
    clock.advance(minutes=25)
    assert take(store.poll_leases, TOPIC, SOURCE, owner="b", at=clock(), ttl=TTL, min_gap=gap)


def test_first_polls_racing_insert_one_lease(db_url: str) -> None:
    """Eight pollers (own engines) race for a pair never polled before: exactly one wins."""
    clock, start, won = Clock(), threading.Barrier(8), []

    def poller(name: str) -> None:
        store = Store.open(db_url)
        start.wait()
        if take(store.poll_leases, "new-topic", SOURCE, owner=name, at=clock(), ttl=TTL):
            won.append(name)
        store.close()

    Store.open(db_url).close()  # create the tables once, outside the race
    threads = [threading.Thread(target=poller, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


class CountingWatcher:
    source = SOURCE

    def __init__(self) -> None:
        self.calls = 0

    def poll(self, topic: Topic, meta: object) -> SourceResult:
        self.calls += 1
        return result(trial())


def test_poll_once_skips_a_pair_held_elsewhere_and_releases_its_own(store: Store) -> None:
    clock, watcher, topic = Clock(), CountingWatcher(), Topic(TOPIC)
    assert take(store.poll_leases, TOPIC, SOURCE, owner="other", at=clock(), ttl=TTL)
    summary = poll_once(watcher, topic, routed(store, {}), clock, owner="me")
    assert (summary.outcome, watcher.calls) == (PollOutcome.SKIPPED, 0)
    assert store.health(TOPIC)[0].consecutive_failures == 0  # a skip is not a failure
    store.poll_leases.release(TOPIC, SOURCE, owner="other")
    summary = poll_once(watcher, topic, routed(store, {}), clock, owner="me")
    assert (summary.outcome, watcher.calls) == (PollOutcome.BASELINE, 1)
    # Released after the commit: the other process may poll now (no min_gap asked).
    assert take(store.poll_leases, TOPIC, SOURCE, owner="other", at=clock(), ttl=TTL)


def test_poll_once_with_min_gap_polls_once_per_interval(store: Store) -> None:
    clock, watcher, topic = Clock(), CountingWatcher(), Topic(TOPIC)
    gap = timedelta(minutes=30)
    outcomes = []
    for owner, minutes in (("a", 0), ("b", 1), ("a", 29), ("b", 31)):
        clock.now = Clock().now + timedelta(minutes=minutes)
        outcomes.append(
            poll_once(watcher, topic, routed(store, {}), clock, owner=owner, min_gap=gap)
        )
    assert [s.outcome for s in outcomes] == [
        PollOutcome.BASELINE,
        PollOutcome.SKIPPED,
        PollOutcome.SKIPPED,
        PollOutcome.OK,
    ]
    assert watcher.calls == 2
