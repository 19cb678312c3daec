"""A long poll keeps its lease: a second process never starts the same poll meanwhile; one
renewer and reused fetch threads do it without a thread per poll."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import timedelta
from unittest.mock import patch

import httpx
import pytest
from sqlalchemy import event

from bot.app import App, open_app
from bot.polling.fetch import DeadlineWatcher
from bot.polling.pipeline import poll_once
from state.poll.leases import LeaseRenewer
from state.types import PollOutcome
from tests.bot.service_helpers import loaded_config
from tests.factories import T0, Clock
from tests.state.helpers import routed, take
from watchers.model import SourceResult, Topic
from watchers.net.http import Http

TTL = timedelta(minutes=15)
_PATIENCE = 10.0


def app_http() -> Http:
    return Http(httpx.Client(), min_interval=0.0)  # never asked: the watchers here answer


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
            seen.append(take(app.store.poll_leases, topic.name, self.source, owner="b", at=later))
            return SourceResult(source=self.source, topic=topic.name)

    topic = app.topics[0]
    renewer = LeaseRenewer(app.store.poll_leases, wait=wait)
    summary = poll_once(
        SlowSource(), topic, routed(app.store, {"console": None}), clock, owner="a", renewer=renewer
    )
    renewer.close()
    assert summary.outcome is PollOutcome.BASELINE
    assert seen == [False]  # the other process found the lease still held
    assert waits == [TTL.total_seconds() / 3] * 2  # renewed every third of its time to live
    after = T0 + timedelta(minutes=20)
    assert take(app.store.poll_leases, topic.name, "feed:slow", owner="b", at=after)  # released


def test_a_lease_taken_over_is_not_renewed(app: App) -> None:
    leases = app.store.poll_leases
    assert take(leases, "t", "feed:x", owner="a", at=T0, ttl=TTL)
    later = T0 + TTL + timedelta(seconds=1)  # a's lease ran out; b takes it
    assert take(leases, "t", "feed:x", owner="b", at=later, ttl=TTL)
    assert not leases.renew("t", "feed:x", owner="a", at=later, ttl=TTL)
    assert not take(leases, "t", "feed:x", owner="a", at=later, ttl=TTL)  # still b's


def test_one_statement_renews_every_lease_in_flight(app: App) -> None:
    clock, leases = Clock(T0), app.store.poll_leases
    pairs = [("ulefnersen", f"feed:{n}") for n in range(3)]
    for topic, source in pairs:
        assert take(leases, topic, source, owner="a", at=T0, ttl=TTL)
    renews: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "lease_until" in statement:
            renews.append(statement)

    all_held, renewed, waits = threading.Event(), threading.Event(), []

    def wait(_seconds: float) -> bool:  # the first pause: 14 minutes; the second: stop
        waits.append(_seconds)
        if len(waits) == 1:
            assert all_held.wait(_PATIENCE)
            clock.advance(minutes=14)
            return False
        renewed.set()
        return True

    renewer = LeaseRenewer(leases, wait=wait)
    event.listen(app.store.engine, "before_cursor_execute", count)
    try:
        with ExitStack() as held:
            for topic, source in pairs:
                held.enter_context(renewer.holding(topic, source, owner="a", ttl=TTL, clock=clock))
            all_held.set()
            assert renewed.wait(_PATIENCE)
            renewer.close()
    finally:
        event.remove(app.store.engine, "before_cursor_execute", count)
    assert len(renews) == 1  # three leases, one statement
    later = T0 + timedelta(minutes=20)  # past the first leases, within the renewed ones
    assert not any(take(leases, t, s, owner="b", at=later, ttl=TTL) for t, s in pairs)


def test_polls_in_a_row_start_no_thread_each(app: App) -> None:
    clock = Clock(T0)

    class Quick:
        source = "feed:quick"

        def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
            return SourceResult(source=self.source, topic=topic.name, unchanged=bool(meta))

    watcher = DeadlineWatcher(Quick(), app_http(), 5.0)  # type: ignore[arg-type]
    started: list[str] = []
    real_start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    with patch.object(threading.Thread, "start", counted):
        for _ in range(50):
            clock.advance(minutes=1)
            poll_once(watcher, app.topics[0], routed(app.store, {"console": None}), clock)
    # At most one lease renewer and a fetch thread or two (one may still be settling in).
    assert len(started) <= 3, started
