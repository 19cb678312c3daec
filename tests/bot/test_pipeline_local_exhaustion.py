"""Our own exhaustion (no file descriptors, memory, threads) is never the source's failure."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator, Mapping

import httpx
import pytest
import respx

from bot.polling import pipeline
from bot.polling.fetch import DeadlineWatcher, RedactingWatcher
from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import PollOutcome
from tests.factories import Clock, result, trial
from tests.state.helpers import routed
from watchers.model import SourceResult, Topic
from watchers.net.http import Http, build_client
from watchers.text.redact import Redactor

TOPIC = Topic(name="ulefnersen", aliases=("ION363",))
URL = "https://clinicaltrials.gov/api/v2/studies"


class _Registry:
    """Asks one URL through Http (as every watcher does), then answers one trial."""

    source = "clinicaltrials"

    def __init__(self, http: Http) -> None:
        self.http = http

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        self.http.get(URL)
        return result(trial())


def _out_of_fds(request: httpx.Request) -> httpx.Response:
    # What httpcore raises when socket() fails with EMFILE: a ConnectError over the OSError.
    cause = OSError(errno.EMFILE, os.strerror(errno.EMFILE))
    raise httpx.ConnectError(str(cause), request=request) from cause


class _Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_too_many_open_files_leaves_the_source_healthy_and_raises_no_alarm(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = _Ticks()
    monkeypatch.setattr(pipeline, "RAN_OUT_LOG", pipeline._RanOutLog(monotonic=ticks))
    clock = Clock()
    with respx.mock(assert_all_called=False) as router, build_client() as client:
        http = Http(client, min_interval=0, max_retries=3, sleep=lambda _s: None)
        # As production wraps every watcher: the cause must survive both wrappers.
        watcher = RedactingWatcher(DeadlineWatcher(_Registry(http), http, 5), Redactor([]))
        route = router.get(URL).mock(return_value=httpx.Response(200, json={}))
        assert poll_once(watcher, TOPIC, routed(store, {}), clock).outcome is PollOutcome.BASELINE
        route.mock(side_effect=_out_of_fds)
        with caplog.at_level(logging.INFO, logger="bot.polling.pipeline"):
            summaries = []
            for seconds in (0, 10, 20, 70):  # four polls, the last a minute after the first
                ticks.now = seconds
                clock.advance(minutes=5)
                summaries.append(poll_once(watcher, TOPIC, routed(store, {}), clock))
    assert {s.outcome for s in summaries} == {PollOutcome.SKIPPED}
    assert summaries[0].reason == (
        "this machine ran out of resources (too many open files); the source was not judged"
    )
    health = store.health(TOPIC.name)[0]
    assert (health.consecutive_failures, health.last_error) == (0, None)
    assert store.failures_before_alert <= 4
    assert store.status(TOPIC.name, at=clock()).recent_alerts == ()  # no "source down"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2  # once a minute, with how many polls it cost
    assert warned[0].startswith("1 poll(s) skipped since the last such warning")
    assert warned[1].startswith("3 poll(s) skipped since the last such warning")
    assert "too many open files" in warned[1]


def test_a_server_saying_it_is_out_of_memory_is_still_the_source_failing(store: Store) -> None:
    clock = Clock()
    with respx.mock() as router, build_client() as client:
        http = Http(client, min_interval=0, max_retries=0, sleep=lambda _s: None)
        router.get(URL).mock(return_value=httpx.Response(507, text="Cannot allocate memory"))
        summary = poll_once(_Registry(http), TOPIC, routed(store, {}), clock)
    assert summary.outcome is PollOutcome.FAILED
    assert store.health(TOPIC.name)[0].consecutive_failures == 1
