"""A read shared by a source's topics never outlives half the source's configured interval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.config import Secrets, Settings
from bot.polling.sources import build_watchers
from tests.fakes.clock import FakeClock
from watchers.model import Topic
from watchers.net.http import Http

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
FDA_URL = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
ULEF = Topic("ulefnersen", aliases=("ION-363",))


def _settings(**feed: Any) -> Settings:
    entry = {"name": "FDA press releases", "url": FDA_URL, "authority": "FDA", **feed}
    return Settings.model_validate(
        {"topics": [{"name": "ulefnersen"}], "sources": {"feeds": [entry]}}
    )


def _feed(name: str) -> httpx.Response:
    return httpx.Response(200, content=(FEEDS / name).read_bytes())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def http(clock: FakeClock) -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)


def test_an_item_that_comes_and_goes_between_two_polls_a_minute_apart_is_seen(
    http: Http, clock: FakeClock
) -> None:
    # The feed gains the approval at the second poll and loses it before the third.
    answers = [
        _feed("fda_press_releases_rss.xml"),
        _feed("fda_press_releases_ulefnersen_derived.xml"),
        _feed("fda_press_releases_rss.xml"),
    ]
    [watcher] = build_watchers(_settings(interval="1m"), Secrets(), http, monotonic=clock.monotonic)
    with respx.mock() as router:
        route = router.get(FDA_URL).mock(side_effect=answers)
        seen = []
        for _ in range(3):
            seen.append(len(watcher.poll(ULEF, {}).observations))
            clock.sleep(60)
    assert seen == [0, 2, 0]
    assert route.call_count == 3


def test_topics_of_one_poll_still_share_one_read(http: Http, clock: FakeClock) -> None:
    [watcher] = build_watchers(_settings(interval="1m"), Secrets(), http, monotonic=clock.monotonic)
    with respx.mock() as router:
        route = router.get(FDA_URL).mock(return_value=_feed("fda_press_releases_rss.xml"))
        watcher.poll(ULEF, {})
        clock.sleep(20)  # the next topic of the same poll
        watcher.poll(Topic("losartan"), {})
    assert route.call_count == 1


def test_a_long_interval_still_caps_the_shared_read_at_five_minutes(
    http: Http, clock: FakeClock
) -> None:
    [watcher] = build_watchers(_settings(), Secrets(), http, monotonic=clock.monotonic)
    with respx.mock() as router:
        route = router.get(FDA_URL).mock(return_value=_feed("fda_press_releases_rss.xml"))
        watcher.poll(ULEF, {})
        clock.sleep(300)
        watcher.poll(ULEF, {})
    assert route.call_count == 2
