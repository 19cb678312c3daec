"""Read answers kept while the data is unchanged (bot/read/answer_cache.py): the same page
asked again is not re-read, yet a stored alert, a moved clock or other credentials always
get a fresh answer, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

import bot.dashboard.serve
import bot.read.api
from bot.dashboard.serve import Dashboard
from bot.read.api import ReadApi
from bot.read.atom import AtomFeeds
from bot.service.url_token import UrlTokenGate
from state.schema import AlertRow
from state.store import Store
from tests.bot.read.world import TOPIC, seed_world
from tests.factories import T0, Clock

NOW = T0 + timedelta(days=4)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed_world(s, extra=30)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """Re-reads are counted on SQLite only: a PostgreSQL stamp moves with any write on the
    server (other databases' too), which costs a re-read, never a stale answer."""
    s = Store.open(sqlite_url)
    seed_world(s, extra=30)
    yield s
    s.close()


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _client(
    store: Store, clock: Clock, host: str = "127.0.0.1", token: str | None = None
) -> TestClient:
    dashboard = Dashboard(store, [TOPIC], clock, host=host, token=token)
    routes = [
        *dashboard.routes(),
        *ReadApi(store, [TOPIC], clock, dashboard.gate).routes(),
        *AtomFeeds(store, [TOPIC], clock, UrlTokenGate(host=host, token=token)).routes(),
    ]
    return TestClient(Starlette(routes=routes), raise_server_exceptions=False)


def _add_alert(store: Store, title: str) -> None:
    with Session(store.engine) as session:
        session.add(
            AlertRow(created_at=NOW, kind="new", topic=TOPIC.name, source="pubmed", key="PMIDnew",
                     title=title, url="https://pubmed.example/new", severity="high")
        )  # fmt: skip
        session.commit()


def test_the_same_page_asked_again_is_not_read_again(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = _counting(monkeypatch, bot.dashboard.serve, "render_topic")
    reads = _counting(monkeypatch, bot.read.api, "alert_page")
    http = _client(sqlite_store, Clock(NOW))
    pages = [http.get("/topics/ulefnersen?severity=high") for _ in range(5)]
    answers = [http.get("/api/v1/topics/ulefnersen/alerts?limit=5") for _ in range(5)]
    assert {p.text for p in pages} == {pages[0].text} and pages[0].status_code == 200
    assert {a.text for a in answers} == {answers[0].text}
    assert (len(renders), len(reads)) == (1, 1)
    assert http.get("/topics/ulefnersen?severity=low").status_code == 200  # another URL: read
    assert len(renders) == 2


def test_a_stored_alert_shows_on_the_next_request_on_every_output(
    store: Store, db_url: str
) -> None:
    http = _client(store, Clock(NOW))
    paths = ("/topics/ulefnersen", "/api/v1/topics/ulefnersen/alerts", "/feeds/ulefnersen.atom")
    for path in paths:
        assert "Fresh approval" not in http.get(path).text
    _add_alert(store, "Fresh approval")  # the service's own engine, as a poll writes
    for path in paths:
        assert "Fresh approval" in http.get(path).text, path
    other = Store.open(db_url)  # another process writing the same database
    try:
        _add_alert(other, "Second approval")
    finally:
        other.close()
    for path in paths:
        assert "Second approval" in http.get(path).text, path


def test_a_kept_page_lasts_a_second_of_the_clock(sqlite_store: Store) -> None:
    clock = Clock(NOW)
    http = _client(sqlite_store, clock)
    first = http.get("/topics/ulefnersen").text
    clock.advance(seconds=0.5)
    assert http.get("/topics/ulefnersen").text == first
    clock.advance(minutes=2)  # the page's "From stored state at" time moves on
    assert http.get("/topics/ulefnersen").text != first


def test_a_refused_request_never_gets_a_kept_answer(store: Store) -> None:
    http = _client(store, Clock(NOW), host="0.0.0.0", token="s3cret-token")
    ok = http.get("/topics/ulefnersen", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}):
        assert http.get("/topics/ulefnersen", headers=headers).status_code == 401
    assert http.get("/feeds/ulefnersen.atom?token=s3cret-token").status_code == 200
    assert http.get("/feeds/ulefnersen.atom").status_code == 403


def _churn(store: Store) -> None:
    """What a busy pool does: open connections beyond the 5 it keeps, then close the extra
    ones, so the next request is on a connection never seen before."""
    many = [store.engine.connect() for _ in range(10)]
    for connection in reversed(many):  # the newest go back to the pool, the oldest close
        connection.close()


def test_a_busy_pool_does_not_defeat_the_kept_answer(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each new pooled connection must not count as a change of the data (a SQLite stamp
    only compares within one connection)."""
    renders = _counting(monkeypatch, bot.dashboard.serve, "render_topic")
    http = _client(sqlite_store, Clock(NOW))
    for _ in range(4):
        _churn(sqlite_store)
        assert http.get("/topics/ulefnersen").status_code == 200
    assert len(renders) == 1
