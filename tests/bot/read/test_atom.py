"""The Atom feed: parses with feedparser with every required element, capped at the latest
100, filtered by severity, source text escaped for XML, the subscribed-URL token off loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import feedparser
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.read.atom import FEED_ALERTS, AtomFeeds
from bot.service.url_token import UrlTokenGate
from state.store import Store
from tests.bot.read.world import HOSTILE_XML, TOPIC, seed_world
from tests.factories import T0, Clock


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed_world(s, extra=150)
    yield s
    s.close()


def client(store: Store, host: str = "127.0.0.1", token: str | None = None) -> TestClient:
    feeds = AtomFeeds(
        store, [TOPIC], Clock(T0 + timedelta(days=4)), UrlTokenGate(host=host, token=token)
    )
    return TestClient(Starlette(routes=feeds.routes()), raise_server_exceptions=False)


def test_feed_parses_with_required_elements_latest_100(store: Store) -> None:
    answer = client(store).get("/feeds/ION363.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title == "trialwatch: ulefnersen" and feed.feed.updated
    assert len(feed.entries) == FEED_ALERTS  # of 153 stored
    for entry in feed.entries:
        assert entry.id and entry.title and entry.updated
    ids = [int(e.id.rsplit("/", 1)[1]) for e in feed.entries]
    assert ids == sorted(ids, reverse=True)  # newest first
    newest = feed.entries[0]
    # The hostile title arrives as the same text: escaped in XML, control character dropped.
    assert newest.title == f"[low] {HOSTILE_XML.replace(chr(11), '')} 149"
    assert b"<b>halted" not in answer.content


def test_severity_filter_and_bad_values(store: Store) -> None:
    http = client(store)
    high = feedparser.parse(http.get("/feeds/ulefnersen.atom?severity=high").content)
    assert len(high.entries) == 38 and all(e.title.startswith("[high]") for e in high.entries)
    assert "(high or louder)" in high.feed.title
    bad = http.get("/feeds/ulefnersen.atom?severity=urgent")
    assert bad.status_code == 400 and "high, normal, low" in bad.text
    assert http.get("/feeds/nope.atom").status_code == 404


def test_token_in_the_url_off_loopback_and_never_in_the_feed(store: Store) -> None:
    http = client(store, "0.0.0.0", "feed-s3cret")
    assert http.get("/feeds/ulefnersen.atom").status_code == 403
    ok = http.get("/feeds/ulefnersen.atom?token=feed-s3cret")
    assert ok.status_code == 200 and b"feed-s3cret" not in ok.content
