"""Every poll has a deadline: a server that trickles or stalls fails the poll as a timeout.

Real servers on 127.0.0.1 (tests/reliability/hostile_server.py) trickle a body one byte per
tick, trickle even the status line, or accept and never answer. The poll runs through the
real FeedWatcher, `poll_once` and a Store, with a deadline of a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from bot.polling.fetch import DeadlineWatcher
from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import ChangeKind, PollOutcome
from tests.factories import Clock
from tests.fakes.clock import FakeClock
from tests.reliability.hostile_server import Answer, hostile_server, silent, trickle, trickle_head
from tests.state.helpers import pending_alerts, routed
from watchers.feeds.watcher import FeedWatcher
from watchers.model import FetchError, Topic
from watchers.net.http import Http, build_client

FEED = Path(__file__).parents[1] / "fixtures/feeds/fda_press_releases_ulefnersen_derived.xml"
TOPIC = Topic("ulefnersen", aliases=("jacifusen", "ION-363"))
DEADLINE = 0.3
CONSOLE = {"console": None}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # The real client as `app.py` builds it: 20 s timeouts, which the deadline must cut short.
    with build_client() as client:
        yield client


def _watcher(client: httpx.Client, url: str) -> DeadlineWatcher:
    http = Http(client, min_interval=0.0, max_retries=3, backoff=0.01)
    return DeadlineWatcher(FeedWatcher(http, "FDA press", url, "FDA"), http, DEADLINE)


@pytest.mark.parametrize(
    "answer",
    [trickle(FEED.read_bytes()), trickle_head(), silent()],
    ids=["body trickled", "status line trickled", "accepts, never answers"],
)
def test_a_poll_past_its_deadline_fails_as_a_timeout_counted_toward_source_down(
    db_url: str, client: httpx.Client, answer: Answer
) -> None:
    store = Store.open(db_url, failures_before_alert=2)
    clock = Clock()
    try:
        with hostile_server([answer]) as server:
            watcher = _watcher(client, server.url)
            summaries = [poll_once(watcher, TOPIC, routed(store, CONSOLE), clock) for _ in range(2)]
        for summary in summaries:
            assert summary.outcome is PollOutcome.FAILED
            assert summary.error is not None and "timed out" in summary.error
            assert f"poll deadline of {DEADLINE:g} s" in summary.error
        [health] = store.health(TOPIC.name)
        assert health.consecutive_failures == 2 and health.last_success is None
        assert health.last_error is not None and "timed out" in health.last_error
        assert [a.change.kind for a in pending_alerts(store.outbox, "console")] == [
            ChangeKind.SOURCE_DOWN
        ]
        assert store.snapshot(TOPIC.name, watcher.source) == {}
    finally:
        store.close()


def test_a_trickled_body_is_cut_by_http_itself(client: httpx.Client) -> None:
    with hostile_server([trickle(FEED.read_bytes())]) as server:
        http = Http(client, min_interval=0.0)
        with http.deadline(DEADLINE), pytest.raises(FetchError) as raised:
            http.get(server.url)
    assert "bytes)" in str(raised.value)  # counted while the bytes came, not by the watchdog
    assert raised.value.transient


def test_retries_and_their_waits_share_the_poll_deadline() -> None:
    time = FakeClock()
    with httpx.Client() as client, respx.mock(assert_all_called=False) as router:
        route = router.get("https://busy.example.test/feed").mock(return_value=httpx.Response(503))
        http = Http(
            client, max_retries=10, backoff=10.0, sleep=time.sleep, monotonic=time.monotonic
        )
        with http.deadline(60.0), pytest.raises(FetchError) as raised:
            http.get("https://busy.example.test/feed")
    # 10 s, 20 s waited; the next wait (40 s) would outlast the 60 s budget: fail now.
    assert time.sleeps[-2:] == [10.0, 20.0] and route.call_count == 3
    assert "poll deadline of 60 s" in str(raised.value)


def test_pages_of_one_poll_share_one_budget() -> None:
    time = FakeClock()
    with httpx.Client() as client, respx.mock() as router:
        router.get(host="api.example.test").mock(return_value=httpx.Response(200, json={}))
        http = Http(client, min_interval=25.0, sleep=time.sleep, monotonic=time.monotonic)
        with http.deadline(60.0):
            for page in range(3):  # pacing makes each page start 25 s after the last
                http.get(f"https://api.example.test/page/{page}")
            with pytest.raises(FetchError, match="poll deadline"):
                http.get("https://api.example.test/page/3")
        http.get("https://api.example.test/page/3")  # a new poll gets a new budget
