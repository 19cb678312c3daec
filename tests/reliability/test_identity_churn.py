"""An item whose GUID and link both change on every fetch alerts once (SYNTH feeds).

The same "FDA approves ulefnersen" press release is served on 4 polls with its identity
rotating: session and tracking parameters in the link and GUID, or an opaque GUID and a
redirect link that are new on every fetch. Through FeedWatcher, `poll_once` and a Store.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import ChangeKind, PollOutcome
from tests.factories import Clock
from tests.fakes.clock import FakeClock
from tests.state.helpers import pending_alerts, routed
from watchers.feeds.watcher import FeedWatcher
from watchers.model import Topic
from watchers.net.http import Http
from watchers.news.watcher import GoogleNewsWatcher

URL = "https://press.example.test/rss.xml"
TOPIC = Topic("ulefnersen", aliases=("jacifusen", "ION363"))
CONSOLE = {"console": None}
OTHER = (
    "<item><title>FDA roundup: ulefnersen advisory committee scheduled</title>"
    "<link>https://press.example.test/roundup-41</link><guid>roundup-41</guid>"
    "<pubDate>Mon, 02 Nov 2026 09:00:00 GMT</pubDate></item>"
)

Identity = Callable[[int], tuple[str, str]]  # fetch number -> (guid, link)

CHURN: dict[str, Identity] = {
    "session and tracking parameters": lambda n: (
        f"https://press.example.test/fda-approves-ulefnersen?sid={n:08x}&amp;utm_source=rss",
        f"https://press.example.test/fda-approves-ulefnersen?PHPSESSID=s{n}&amp;_ga=2.{n}",
    ),
    "opaque guid and redirect link": lambda n: (
        f"urn:uuid:7d3c{n:04d}-0000-4000-8000-00000000{n:04d}",
        f"https://press.example.test/r/{n * 7919:x}",
    ),
}


def feed(fetch: int, identity: Identity | None) -> str:
    items = OTHER
    if identity is not None:
        guid, link = identity(fetch)
        items += (
            "<item><title>FDA approves  Ulefnersen for FUS-ALS</title>"
            f"<link>{link}</link><guid>{guid}</guid>"
            # The time of day moves too: only the day is part of the fingerprint.
            f"<pubDate>Tue, 03 Nov 2026 {9 + fetch}:15:00 GMT</pubDate></item>"
        )
    return f'<rss version="2.0"><channel><title>Press</title>{items}</channel></rss>'


@pytest.mark.parametrize("identity", CHURN.values(), ids=CHURN.keys())
def test_an_item_with_churning_identity_alerts_once(db_url: str, identity: Identity) -> None:
    store = Store.open(db_url)
    clock, time = Clock(), FakeClock()
    fetches = iter(range(10))

    def serve(request: httpx.Request) -> httpx.Response:
        n = next(fetches)
        body = feed(n, identity if n > 0 else None)  # the first poll is the baseline
        return httpx.Response(200, text=body, headers={"content-type": "application/rss+xml"})

    try:
        with httpx.Client() as client, respx.mock() as router:
            router.get(URL).mock(side_effect=serve)
            http = Http(client, min_interval=0.0, sleep=time.sleep, monotonic=time.monotonic)
            outcomes = []
            for _ in range(5):
                clock.advance(hours=1)
                watcher = FeedWatcher(http, "Press", URL, "FDA")  # a new process each time
                outcomes.append(poll_once(watcher, TOPIC, routed(store, CONSOLE), clock).outcome)
        assert outcomes == [PollOutcome.BASELINE] + [PollOutcome.OK] * 4
        alerts = pending_alerts(store.outbox, "console", limit=100)
        assert [(a.change.kind, a.change.title) for a in alerts] == [
            (ChangeKind.NEW, "FDA approves Ulefnersen for FUS-ALS")
        ]
        assert len(store.snapshot(TOPIC.name, "feed:Press")) == 2
    finally:
        store.close()


def test_two_distinct_items_alike_in_title_and_day_both_alert(db_url: str) -> None:
    # A fingerprint shared by two items of one poll says nothing: each keeps its own key.
    store = Store.open(db_url)
    clock, time = Clock(), FakeClock()
    twin = (
        "<item><title>FDA roundup: ulefnersen</title><link>https://press.example.test/{n}</link>"
        "<guid>{n}</guid><pubDate>Tue, 03 Nov 2026 09:00:00 GMT</pubDate></item>"
    )
    bodies = iter(
        [
            f'<rss version="2.0"><channel><title>P</title>{OTHER}</channel></rss>',
            f'<rss version="2.0"><channel><title>P</title>{OTHER}{twin.format(n="a")}'
            f"{twin.format(n='b')}</channel></rss>",
        ]
    )
    try:
        with httpx.Client() as client, respx.mock() as router:
            router.get(URL).mock(side_effect=lambda _: httpx.Response(200, text=next(bodies)))
            http = Http(client, min_interval=0.0, sleep=time.sleep, monotonic=time.monotonic)
            for _ in range(2):
                clock.advance(hours=1)
                poll_once(
                    FeedWatcher(http, "Press", URL, "FDA"), TOPIC, routed(store, CONSOLE), clock
                )
        alerts = pending_alerts(store.outbox, "console", limit=100)
        assert sorted(a.change.key for a in alerts) == ["a", "b"]
    finally:
        store.close()


NEWS = "https://news.example.test/rss/search"


def news_feed(fetch: int) -> str:
    # Google News answers with opaque redirect links and GUIDs that can differ per fetch.
    story = (
        "<item><title>FDA approves ulefnersen for FUS-ALS - Example Times</title>"
        f"<link>https://news.example.test/rss/articles/CBMi{fetch * 7919:x}?oc=5</link>"
        f'<guid isPermaLink="false">CBMi{fetch * 104729:x}</guid>'
        f"<pubDate>Tue, 03 Nov 2026 {9 + fetch}:15:00 GMT</pubDate>"
        '<source url="https://times.example.test">Example Times</source></item>'
    )
    items = story if fetch > 0 else ""  # the first poll is the baseline
    return f'<rss version="2.0"><channel><title>"ulefnersen"</title>{items}</channel></rss>'


def test_a_google_news_story_with_churning_links_alerts_once(db_url: str) -> None:
    store = Store.open(db_url)
    clock, time = Clock(), FakeClock()
    fetches = iter(range(10))
    try:
        with httpx.Client() as client, respx.mock() as router:
            router.get(url__startswith=NEWS).mock(
                side_effect=lambda _: httpx.Response(200, text=news_feed(next(fetches)))
            )
            http = Http(client, min_interval=0.0, sleep=time.sleep, monotonic=time.monotonic)
            for _ in range(5):
                clock.advance(hours=1)
                poll_once(GoogleNewsWatcher(http, NEWS), TOPIC, routed(store, CONSOLE), clock)
        alerts = pending_alerts(store.outbox, "console", limit=100)
        assert [a.change.kind for a in alerts] == [ChangeKind.NEW]
        assert len(store.snapshot(TOPIC.name, "google_news")) == 1
    finally:
        store.close()
