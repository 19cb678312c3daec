"""`/status` asked by many people at once: every request gets the card, none waits on the pool.

A real server on 127.0.0.1 over a store with a deliberately small connection pool, while a
poller keeps writing (so answers are read from the database, not only remembered).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.service.read_gate import ReadGate
from bot.service.server import BUSY, HttpServer, create_asgi_app
from bot.slack.commands import StatusCommand
from bot.topics import find_topic, topics_from_settings
from state.store import Store
from tests.bot.service_helpers import FrozenClock, loaded_config, seed_ulefnersen, sign
from tests.factories import T0, Clock
from tests.state.helpers import routed

SECRET = "test-signing-secret"
TS = 1_764_000_000
NAMES = ["ulefnersen", "ION363", "NCT04768972+public", "tofersen"]
CONCURRENT = 20
POOL = 2  # far fewer connections than requests at once


@pytest.fixture
def small_pool_server(db_url: str) -> Iterator[tuple[str, Store]]:
    """The /status endpoint over a store with POOL connections, and that store."""
    store = Store.open(db_url, connections=POOL)
    seed_ulefnersen(store)
    topics = topics_from_settings(loaded_config(db_url).settings)
    command = StatusCommand(
        topics, lambda name: find_topic(topics, name, store.snapshot), store.status, Clock(T0)
    )
    app = create_asgi_app(
        answer=command.answer,
        health=dict,
        signing_secret=SECRET,
        clock=FrozenClock(TS),
        # Generous: this is about connections, not speed; a pool deadlock would still show.
        answer_budget=20,
        read_gate=ReadGate(POOL),
    )
    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    yield server.url, store
    assert server.stop(5)
    store.close()


def ask(url: str, text: str) -> dict[str, object]:
    body = f"command=%2Fstatus&text={text}&user_id=U1&channel_id=C1"
    response = httpx.post(
        f"{url}/slack/commands", content=body, headers=sign(SECRET, TS, body), timeout=60
    )
    assert response.status_code == 200
    payload: dict[str, object] = response.json()
    return payload


def test_more_requests_at_once_than_pooled_connections_all_get_the_card(
    small_pool_server: tuple[str, Store],
) -> None:
    url, store = small_pool_server
    stop = threading.Event()

    def poller() -> None:  # a source failing over and over: each write changes the card
        at = T0
        while not stop.is_set():
            routed(store, {}).record_failure("tofersen", "openfda", "HTTP 503", started=at, at=at)
            time.sleep(0.005)

    writer = threading.Thread(target=poller)
    writer.start()
    try:
        with ThreadPoolExecutor(CONCURRENT) as clients:
            payloads = list(
                clients.map(lambda n: ask(url, NAMES[n % len(NAMES)]), range(3 * CONCURRENT))
            )
    finally:
        stop.set()
        writer.join()
    headers = [p.get("blocks", [{}])[0] for p in payloads]  # type: ignore[index]
    assert [p["text"] for p in payloads if "blocks" not in p] == []
    assert {h["text"]["text"] for h in headers} == {"ulefnersen status", "tofersen status"}


def test_a_read_abandoned_by_its_request_keeps_its_slot_until_it_ends() -> None:
    gate = ReadGate(1)
    reading, release = threading.Event(), threading.Event()

    def slow_read() -> str:
        reading.set()
        release.wait(10)
        return "late card"

    abandoned = threading.Thread(target=gate.call, args=(slow_read,), kwargs={"until": 1e12})
    abandoned.start()
    assert reading.wait(10)
    # Its request gave up long ago; the next one is told "busy" rather than sharing its slot.
    assert gate.call(lambda: "card", until=time.monotonic() + 0.05) is None
    release.set()
    abandoned.join(10)
    assert gate.call(lambda: "card", until=time.monotonic() + 5) == "card"


def test_a_request_that_finds_no_free_slot_is_answered_busy_in_its_budget() -> None:
    asked: list[str] = []
    release = threading.Event()

    def stuck(text: str) -> dict[str, object]:
        asked.append(text)
        release.wait(10)
        return {"text": "too late"}

    app = create_asgi_app(
        answer=stuck,
        health=dict,
        signing_secret=SECRET,
        clock=FrozenClock(TS),
        answer_budget=0.3,
        read_gate=ReadGate(1),
    )
    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    try:
        assert ask(server.url, "ulefnersen")["text"] == BUSY  # abandoned, still reading
        assert ask(server.url, "tofersen")["text"] == BUSY  # no free slot: never read
        assert asked == ["ulefnersen"]
    finally:
        release.set()
        assert server.stop(5)
