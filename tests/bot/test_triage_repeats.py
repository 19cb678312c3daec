"""A click that got its 200 is never lost, identical clicks are stored once, and hostile but
validly signed payloads get a 400 (docs/sources.md#slack-interactivity)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from starlette.applications import Starlette

from bot.service.server import HttpServer
from bot.slack.actions_endpoint import actions_route
from bot.slack.triage.actions import ClickHandler, Recorded
from bot.slack.triage.clicks import parse_click
from state.schema import TriageActionRow
from state.triage import Triage
from state.types import Alert
from tests.bot.service_helpers import sign
from tests.bot.triage_world import SECRET, TriageWorld, form, triage_world


@pytest.fixture
def world(db_url: str) -> Iterator[TriageWorld]:
    with triage_world(db_url) as built:
        yield built


@pytest.fixture
def posted(world: TriageWorld) -> Alert:
    [alert] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    return alert


def ledger(world: TriageWorld) -> list[str]:
    with Session(world.store.engine) as session:
        rows = session.exec(select(TriageActionRow).order_by(TriageActionRow.id)).all()
        return [r.action for r in rows]


def test_eight_identical_snooze_clicks_in_a_burst_are_one_action(
    world: TriageWorld, posted: Alert
) -> None:
    bodies = [form(world.click_payload(posted, "Snooze 1 week")) for _ in range(8)]
    for body in bodies:  # a second apart: each would snooze a little longer than the last
        world.clock.advance(seconds=1)
        assert world.post(body).status_code == 200
    assert ledger(world) == ["snooze"]
    assert len(world.settled_updates()) == 1


def test_eight_identical_clicks_arriving_together_are_one_action(
    world: TriageWorld, posted: Alert
) -> None:
    bodies = [form(world.click_payload(posted, "Snooze 1 week")) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(world.post, bodies))
    assert [a.status_code for a in answers] == [200] * 8
    assert ledger(world) == ["snooze"]
    assert len(world.settled_updates()) == 1


def test_a_later_click_that_changes_state_is_still_recorded(
    world: TriageWorld, posted: Alert
) -> None:
    snooze = world.click_payload(posted, "Snooze 1 week")
    assert world.post(form(snooze)).status_code == 200
    world.settled_updates()  # the message shows Unsnooze now
    world.clock.advance(seconds=5)
    assert world.click(posted, "Unsnooze").status_code == 200
    world.settled_updates()
    world.clock.advance(seconds=5)  # the same button again, but the state changed between
    assert world.click(posted, "Snooze 1 week").status_code == 200
    world.clock.advance(minutes=2)  # later than a burst: a re-snooze extends the snooze
    snooze["actions"][0]["action_ts"] = "1793520000.999999"
    assert world.post(form(snooze)).status_code == 200
    assert ledger(world) == ["snooze", "unsnooze", "snooze", "snooze"]
    assert len(world.settled_updates()) == 4


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("alert id 2^63", lambda p: p["actions"][0].update(value=json.dumps({"alert": 2**63}))),
        ("alert id 2^31", lambda p: p["actions"][0].update(value=json.dumps({"alert": 2**31}))),
        ("JSON 20,000 deep", None),
    ],
)
def test_a_hostile_but_signed_payload_is_a_400(
    world: TriageWorld, posted: Alert, caplog: pytest.LogCaptureFixture, case: str, body: object
) -> None:
    if body is None:
        sent = "payload=" + "[" * 20_000 + "]" * 20_000  # 40 kB: under the body limit
    else:
        payload = world.click_payload(posted, "Acknowledge")
        body(payload)  # type: ignore[operator]
        sent = form(payload)
    with caplog.at_level(logging.WARNING):
        response = world.post(sent)
    assert response.status_code == 400, case
    assert not [r for r in caplog.records if r.exc_info], case  # no traceback logged
    assert ledger(world) == []


def _locking(path: str) -> sqlite3.Connection:
    """A second writer holding SQLite's write lock (a long poll commit) until it commits."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _impatient(world: TriageWorld, **kw: object) -> ClickHandler:
    """The app's click handler over an engine that waits 50 ms for a lock, not 30 s."""
    clicks = world.app.clicks
    assert clicks is not None
    url = world.store.engine.url
    engine = create_engine(url, connect_args={"timeout": 0.05})
    return ClickHandler(Triage(engine), clicks.slack, clicks.client, clicks.clock, **kw)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_world(sqlite_url: str) -> Iterator[TriageWorld]:
    with triage_world(sqlite_url) as built:
        yield built


def test_a_click_answered_while_the_database_is_locked_is_stored_once_it_is_free(
    sqlite_world: TriageWorld,
) -> None:
    world = sqlite_world
    [alert] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    holder = _locking(str(world.store.engine.url.database))
    answered, updated, waits = threading.Event(), threading.Event(), []

    def sleep(seconds: float) -> None:  # the retry's wait: the lock goes once Slack has its 200
        waits.append(seconds)
        assert answered.wait(5)
        if len(waits) == 2:
            holder.execute("COMMIT")

    clicks = _impatient(world, sleep=sleep)
    update = clicks.update

    def update_and_say_so(recorded: Recorded) -> bool:
        try:
            return update(recorded)
        finally:
            updated.set()

    clicks.update = update_and_say_so  # type: ignore[method-assign]
    app = Starlette(routes=[actions_route(signing_secret=SECRET, clicks=clicks, clock=None)])
    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    try:
        body = form(world.click_payload(alert, "Acknowledge"))
        response = httpx.post(
            f"{server.url}/slack/actions",
            content=body,
            headers=sign(SECRET, int(time.time()), body),
            timeout=10,
        )
        answered.set()
        assert updated.wait(5)
    finally:
        answered.set()
        holder.close()
        server.stop()
    assert response.status_code == 200
    assert waits == [1.0, 2.0]  # backing off while locked
    assert ledger(world) == ["acknowledge"]
    assert len(world.slack.updates) == 1


def test_a_click_never_stored_is_logged_lost_with_its_id(
    sqlite_world: TriageWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world = sqlite_world
    [alert] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    holder = _locking(str(world.store.engine.url.database))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    clicks = _impatient(world, sleep=sleep, monotonic=lambda: now[0], retry_for=60.0)
    click = parse_click(world.click_payload(alert, "Acknowledge"))
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(OperationalError):
            clicks.record(click)
    finally:
        holder.close()
    [lost] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"LOST (not stored): id={click.user_id}:{click.action_ts}" in lost
    assert "database is locked" in lost
    assert ledger(world) == []
