"""Parse workers: the same items as in process on every feed we hold, used only for many bodies."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import respx

from watchers.feeds.watcher import FeedWatcher
from watchers.model import ParseError, SourceError, Topic
from watchers.net.http import Http
from watchers.text import parse_pool
from watchers.text.feedparse import FeedItem, parse_feed
from watchers.text.parse_pool import ParsePool

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = "https://example.org/feeds/feed.xml"  # relative links resolved in both
FEED = (FIXTURES / "feeds" / "fda_press_releases_ulefnersen_derived.xml").read_bytes()
CRASH = b"<crash/>"
HANG = b"<hang/>"


def documents() -> list[Path]:
    """Every feed fixture (and the HTML page served as one) and feedparser's own corpus."""
    found = [*FIXTURES.glob("feeds/*.*"), *FIXTURES.glob("news/*.xml")]
    found += FIXTURES.glob("feedparser_corpus/**/*.xml")
    return sorted(path for path in found if path.suffix in (".xml", ".html"))


def outcome(parse: object, path: Path) -> list[FeedItem] | str:
    """Items, or the error a user would see."""
    try:
        return parse(path.read_bytes(), path.name, BASE)  # type: ignore[operator, no-any-return]
    except SourceError as exc:
        return f"{type(exc).__name__}: {exc}"


def dies_on_crash(body: bytes, where: str, base_url: str | None) -> list[FeedItem]:
    """parse_feed, except that the worker dies on the body `CRASH` and hangs on `HANG`."""
    if body == CRASH:
        os._exit(3)
    if body == HANG:
        threading.Event().wait()
    return parse_feed(body, where=where, base_url=base_url)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def always_pooled() -> Iterator[ParsePool]:
    pool = ParsePool(threshold=1, workers=2, parse=dies_on_crash)
    yield pool
    pool.close()


def test_worker_items_equal_in_process_items_on_every_fixture_and_feedparser_corpus(
    always_pooled: ParsePool,
) -> None:
    paths = documents()
    assert len(paths) > 2_106  # the whole corpus and the fixtures are here
    expected = [outcome(dies_on_crash, path) for path in paths]
    with ThreadPoolExecutor(8) as threads:  # many bodies in flight, as in a cold cycle
        pooled = list(threads.map(lambda path: outcome(always_pooled.parse, path), paths))
    assert always_pooled.started == 1
    differing = [p.name for p, a, b in zip(paths, expected, pooled, strict=True) if a != b]
    assert differing == []
    # Most corpus documents test one channel or entry element; an entry with neither link nor
    # guid is no item of ours, so about a hundred documents give items.
    assert sum(isinstance(result, list) and bool(result) for result in pooled) > 90
    # Hostile and broken documents give the same clear error from a worker.
    assert any("refused as unsafe" in str(result) for result in pooled)


def test_a_small_cycle_starts_no_pool() -> None:
    clock = Clock()
    pool = ParsePool(threshold=32, window=10.0, workers=1, clock=clock)
    for _ in range(31):  # 31 changed feeds in one cycle
        assert pool.parse(FEED, "feed", BASE)
    clock.now += 60.0
    # Many bodies spread out (a service's cycles, one feed a second) are never a burst either.
    for _ in range(100):
        clock.now += 1.0
        pool.parse(FEED, "feed", BASE)
    assert pool.started == 0


def test_the_32nd_body_in_a_burst_goes_to_a_worker() -> None:
    clock = Clock()
    pool = ParsePool(threshold=32, window=10.0, workers=1, clock=clock)
    try:
        results = [pool.parse(FEED, "feed", BASE) for _ in range(32)]
        assert pool.started == 1
        assert results[-1] == results[0] == parse_feed(FEED, where="feed", base_url=BASE)
    finally:
        pool.close()


def test_a_dead_worker_fails_its_feed_clearly_and_the_next_feed_is_read(
    always_pooled: ParsePool,
) -> None:
    with pytest.raises(SourceError, match="worker process stopped") as failure:
        always_pooled.parse(CRASH, "feed crash (https://x.example/feed)", BASE)
    assert failure.value.transient  # read again next cycle, not marked broken
    assert str(failure.value).startswith("feed crash (https://x.example/feed): ")
    assert always_pooled.parse(FEED, "feed", BASE) == parse_feed(FEED, "feed", BASE)
    assert always_pooled.started == 3  # the pool it broke, the retry's, the next feed's
    with pytest.raises(ParseError, match="expected an RSS or Atom feed"):
        always_pooled.parse(b"<html><body>Access Denied</body></html>", "feed", BASE)


@respx.mock
def test_a_feed_poll_in_a_burst_is_parsed_by_a_worker_with_the_same_observations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "https://www.fda.gov/press/rss.xml"
    respx.get(url).mock(return_value=httpx.Response(200, content=FEED))
    topic = Topic("ulefnersen", aliases=("ION-363",))
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, max_retries=1)
        in_process = FeedWatcher(http, "FDA", url, "FDA").poll(topic, {})
        pool = ParsePool(threshold=1, workers=1)
        monkeypatch.setattr(parse_pool, "PARSE_POOL", pool)
        try:
            pooled = FeedWatcher(http, "FDA", url, "FDA").poll(topic, {})
        finally:
            pool.close()
    assert pool.started == 1
    assert len(pooled.observations) == 2
    assert pooled == in_process


def test_a_worker_stuck_on_a_feed_is_stopped_and_the_others_are_read() -> None:
    pool = ParsePool(threshold=1, workers=1, parse=dies_on_crash, timeout=0.5)
    try:
        with ThreadPoolExecutor(2) as threads:
            stuck = threads.submit(pool.parse, HANG, "feed stuck", BASE)
            behind = threads.submit(pool.parse, FEED, "feed behind it", BASE)
            with pytest.raises(ParseError, match=r"^feed stuck: reading the feed took longer"):
                stuck.result()
            # Queued behind it in the one worker, it is read once the worker is free.
            assert behind.result() == parse_feed(FEED, "feed", BASE)
        assert pool.started == 1  # the worker stopped the parse and lived on
    finally:
        pool.close()
