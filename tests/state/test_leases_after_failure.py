"""A failed poll does not count toward min_gap (retried at once); a skipped poll says why."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import PollOutcome
from tests.factories import Clock, result, trial
from tests.state.helpers import routed, take
from watchers.model import SourceResult, Topic

TOPIC = Topic(name="ulefnersen", aliases=("ION363",))
SOURCE = "clinicaltrials"
GAP = timedelta(hours=3)  # half of a 6-hour interval, as App.poll_source asks


class _Answers:
    source = SOURCE

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        return result(trial())


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def _fail(store: Store, clock: Clock) -> None:
    routed(store, {}).record_failure(
        TOPIC.name,
        SOURCE,
        "clinicaltrials.gov did not answer: network unreachable",
        started=clock(),
        at=clock(),
    )


def test_a_pair_that_never_succeeded_is_polled_again_at_once(store: Store) -> None:
    clock = Clock()
    _fail(store, clock)  # `check` run offline
    clock.advance(minutes=1)  # `run` starts a minute later
    summary = poll_once(_Answers(), TOPIC, routed(store, {}), clock, min_gap=GAP)
    assert summary.outcome is PollOutcome.BASELINE


def test_a_pair_whose_last_poll_failed_is_polled_again_at_once(store: Store) -> None:
    clock = Clock()
    first = poll_once(_Answers(), TOPIC, routed(store, {}), clock, min_gap=GAP)
    assert first.outcome is PollOutcome.BASELINE
    clock.advance(hours=6)
    _fail(store, clock)
    clock.advance(minutes=1)
    summary = poll_once(_Answers(), TOPIC, routed(store, {}), clock, min_gap=GAP)
    assert summary.outcome is PollOutcome.OK  # polled, not skipped
    assert store.health(TOPIC.name)[0].consecutive_failures == 0


def test_a_skipped_poll_says_why(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    poll_once(_Answers(), TOPIC, routed(store, {}), clock, min_gap=GAP)  # a success
    clock.advance(minutes=20)
    with caplog.at_level(logging.INFO, logger="bot.polling.pipeline"):
        recent = poll_once(_Answers(), TOPIC, routed(store, {}), clock, min_gap=GAP)
        assert take(store.poll_leases, TOPIC.name, SOURCE, owner="host-2:77", at=clock())
        held = poll_once(_Answers(), TOPIC, routed(store, {}), clock)
    assert recent.outcome is held.outcome is PollOutcome.SKIPPED
    assert recent.reason == (
        "polled successfully 20 min ago, less than the 180 min between two polls of a pair"
    )
    assert held.reason is not None and held.reason.startswith("lease held by host-2:77 until ")
    skipped = [r.getMessage() for r in caplog.records if "outcome=skipped" in r.getMessage()]
    assert [line.split(" reason=")[1] for line in skipped] == [recent.reason, held.reason]
