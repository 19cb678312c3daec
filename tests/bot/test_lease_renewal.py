"""A long poll keeps its lease: a second process never starts the same poll meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest

from bot.app import App, open_app
from bot.pipeline import poll_once
from state.types import PollOutcome
from tests.bot.service_helpers import loaded_config
from tests.factories import T0, Clock
from watchers.model import SourceResult, Topic

TTL = timedelta(minutes=15)
_PATIENCE = 10.0


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with open_app(loaded_config(db_url), clock=Clock(T0), write=lambda _t: None) as application:
        yield application


def test_a_poll_longer_than_its_lease_renews_it(app: App) -> None:
    clock = Clock(T0)
    renewed = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> bool:  # the renewer's pause: time jumps instead of passing
        waits.append(seconds)
        if len(waits) == 1:
            clock.advance(minutes=14)  # just before the lease would run out: renew
            return False
        renewed.set()
        return True

    seen: list[bool] = []

    class SlowSource:
        source = "feed:slow"

        def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
            assert renewed.wait(_PATIENCE)
            later = T0 + timedelta(minutes=20)  # past the first lease, within the renewed one
            seen.append(app.store.poll_leases.take(topic.name, self.source, owner="b", at=later))
            return SourceResult(source=self.source, topic=topic.name)

    topic = app.topics[0]
    summary = poll_once(
        SlowSource(), topic, app.store, clock, {"console": None}, owner="a", lease_wait=wait
    )
    assert summary.outcome is PollOutcome.BASELINE
    assert seen == [False]  # the other process found the lease still held
    assert waits == [TTL.total_seconds() / 3] * 2  # renewed every third of its time to live
    after = T0 + timedelta(minutes=20)
    assert app.store.poll_leases.take(topic.name, "feed:slow", owner="b", at=after)  # released


def test_a_lease_taken_over_is_not_renewed(app: App) -> None:
    leases = app.store.poll_leases
    assert leases.take("t", "feed:x", owner="a", at=T0, ttl=TTL)
    later = T0 + TTL + timedelta(seconds=1)  # a's lease ran out; b takes it
    assert leases.take("t", "feed:x", owner="b", at=later, ttl=TTL)
    assert not leases.renew("t", "feed:x", owner="a", at=later, ttl=TTL)
    assert not leases.take("t", "feed:x", owner="a", at=later, ttl=TTL)  # still b's
