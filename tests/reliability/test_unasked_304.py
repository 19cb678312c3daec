"""A 304 to a request that sent no validator is an error, not an empty baseline.

A real server on 127.0.0.1 first answers 304 Not Modified to a request carrying neither
If-None-Match nor If-Modified-Since (a confused cache in front of the feed), then the feed.
"""

from __future__ import annotations

from pathlib import Path

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import PollOutcome
from tests.factories import Clock
from tests.reliability.hostile_server import hostile_server, raw
from tests.state.helpers import pending_alerts, routed
from watchers.feeds.watcher import FeedWatcher
from watchers.model import Topic
from watchers.net.http import Http, build_client

FEED = Path(__file__).parents[1] / "fixtures/feeds/fda_press_releases_ulefnersen_derived.xml"
TOPIC = Topic("ulefnersen", aliases=("jacifusen", "ION-363"))
CONSOLE = {"console": None}


def test_an_unasked_304_fails_the_poll_and_the_real_answer_is_a_silent_baseline(
    db_url: str,
) -> None:
    store = Store.open(db_url)
    clock = Clock()
    feed = raw("200 OK", FEED.read_bytes(), {"Content-Type": "application/rss+xml", "ETag": '"v1"'})
    script = [raw("304 Not Modified"), feed, raw("304 Not Modified", headers={"ETag": '"v1"'})]
    try:
        with build_client() as client, hostile_server(script) as server:
            http = Http(client, min_interval=0.0)
            # A fresh watcher per poll: each poll reads the feed, none is served from a cache.
            polls = [
                poll_once(
                    FeedWatcher(http, "FDA", server.url, "FDA"),
                    TOPIC,
                    routed(store, CONSOLE),
                    clock,
                )
                for _ in range(3)
            ]
        first, second, third = polls
        assert "if-none-match" not in server.headers_of(0)
        assert first.outcome is PollOutcome.FAILED
        assert first.error is not None and "304 Not Modified" in first.error
        [health] = store.health(TOPIC.name)
        assert health.consecutive_failures == 0 and health.last_failure is not None
        # The feed's items were there all along: the first real answer is the silent baseline.
        assert second.outcome is PollOutcome.BASELINE and second.alerts == 0
        assert store.snapshot(TOPIC.name, "feed:FDA")
        # A 304 to a request that did send the validator is the ordinary "nothing new".
        assert server.headers_of(2)["if-none-match"] == '"v1"'
        assert third.outcome is PollOutcome.UNCHANGED
        assert pending_alerts(store.outbox, "console") == []
    finally:
        store.close()
