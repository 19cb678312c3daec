"""POST /slack/actions refuses what it will not act on: 401 unsigned or stale, 400 for anything
malformed, unknown or not on a message this bot posted; one log line, nothing recorded."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from starlette.applications import Starlette

from bot.service.server import HttpServer
from bot.slack.actions_endpoint import actions_route
from state.schema import TriageActionRow
from state.types import Alert
from tests.bot.service_helpers import sign
from tests.bot.triage_world import SECRET, SIGNED_AT, TriageWorld, form, triage_world
from tests.fakes.slack_api import error


@pytest.fixture
def world(sqlite_url: str) -> Iterator[TriageWorld]:
    with triage_world(sqlite_url) as built:
        yield built


@pytest.fixture
def posted(world: TriageWorld) -> Alert:
    [alert] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    return alert


def ledger(world: TriageWorld) -> list[TriageActionRow]:
    with Session(world.store.engine) as session:
        return list(session.exec(select(TriageActionRow)).all())


Mutate = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutate:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("case", "mutate", "reason"),
    [
        ("unknown action id", _set("actions.0.action_id", "delete_everything"), "unknown action"),
        ("value not ours", _set("actions.0.value", "FUSION is terminated"), "not ours"),
        ("value names no alert", _set("actions.0.value", '{"alert":"1"}'), "names no alert"),
        ("another alert id", _set("actions.0.value", '{"alert":999}'), "not posted by this bot"),
        ("another message", _set("container.message_ts", "1793520000.000777"), "not posted"),
        ("another channel", _set("container.channel_id", "C0OTHER99"), "not posted"),
        ("user id forged", _set("user.id", "<!channel>"), "user.id"),
        ("lower-case user id", _set("user.id", "u0ana12345"), "user.id"),
        ("no user", _set("user", None), "user"),
        ("not a block action", _set("type", "view_submission"), "not handled"),
        ("two actions", lambda p: p["actions"].append(p["actions"][0]), "exactly one"),
        ("no action_ts", _set("actions.0.action_ts", None), "action_ts"),
        ("ts not a ts", _set("container.message_ts", "yesterday"), "message_ts"),
    ],
)
def test_a_click_we_will_not_act_on_is_a_400_and_one_log_line(
    world: TriageWorld,
    posted: Alert,
    caplog: pytest.LogCaptureFixture,
    case: str,
    mutate: Mutate,
    reason: str,
) -> None:
    payload = world.click_payload(posted, "Acknowledge")
    mutate(payload)
    with caplog.at_level(logging.WARNING, logger="bot.slack.actions_endpoint"):
        response = world.post(form(payload))
    assert response.status_code == 400, case
    assert reason in response.text, case
    [line] = [r.getMessage() for r in caplog.records]
    assert "status=400" in line and reason in line
    assert SECRET not in line and "v0=" not in line
    assert ledger(world) == [] and world.settled_updates() == []


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("payload is not JSON", form("{not json")),
        ("payload is a list", form("[1, 2]")),
        ("no payload field", "text=hello"),
        ("empty body", ""),
    ],
)
def test_a_malformed_body_is_a_400(world: TriageWorld, posted: Alert, case: str, body: str) -> None:
    assert world.post(body).status_code == 400, case
    assert ledger(world) == []


def test_muting_a_field_the_alert_did_not_change_is_refused(
    world: TriageWorld, posted: Alert
) -> None:
    payload = world.click_payload(posted, "Mute Enrollment")
    payload["actions"][0]["value"] = json.dumps({"alert": posted.id, "field": "overall_status"})
    response = world.post(form(payload))
    assert response.status_code == 400 and "no field 'overall_status'" in response.text
    assert ledger(world) == []


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("unsigned", lambda body: {"Content-Type": "application/x-www-form-urlencoded"}),
        ("stale by 301 s", lambda body: sign(SECRET, SIGNED_AT - 301, body)),
        ("from the future by 301 s", lambda body: sign(SECRET, SIGNED_AT + 301, body)),
        ("another secret", lambda body: sign("not-the-secret", SIGNED_AT, body)),
    ],
)
def test_an_unverifiable_click_is_a_401(
    world: TriageWorld, posted: Alert, case: str, headers: Callable[[str], dict[str, str]]
) -> None:
    body = form(world.click_payload(posted, "Acknowledge"))
    response = httpx.post(f"{world.url}/slack/actions", content=body, headers=headers(body))
    assert response.status_code == 401, case
    assert ledger(world) == [] and world.slack.updates == []


def test_without_a_signing_secret_clicks_answer_503(world: TriageWorld, posted: Alert) -> None:
    server = HttpServer(
        Starlette(routes=[actions_route(signing_secret=None, clicks=world.app.clicks)]),
        "127.0.0.1",
        0,
    )
    server.start()
    try:
        body = form(world.click_payload(posted, "Acknowledge"))
        response = httpx.post(
            f"{server.url}/slack/actions", content=body, headers=sign(SECRET, SIGNED_AT, body)
        )
    finally:
        server.stop()
    assert response.status_code == 503 and "SLACK_SIGNING_SECRET" in response.text
    assert ledger(world) == []


def test_a_refused_update_keeps_the_recorded_action(world: TriageWorld, posted: Alert) -> None:
    world.slack.reply_next("chat.update", error("cant_update_message"))
    assert world.click(posted, "Acknowledge").status_code == 200
    assert world.settled_updates() == []
    assert [r.action for r in ledger(world)] == ["acknowledge"]


def test_a_slow_database_still_answers_slack_in_time(
    world: TriageWorld, posted: Alert, monkeypatch: pytest.MonkeyPatch
) -> None:
    clicks = world.app.clicks
    assert clicks is not None
    record, update = clicks.record, clicks.update
    released, updated = threading.Event(), threading.Event()

    def slow(click: Any) -> Any:  # the database answers only after Slack has had its answer
        assert released.wait(5)
        return record(click)

    def update_and_say_so(recorded: Any) -> bool:
        try:
            return update(recorded)
        finally:
            updated.set()

    monkeypatch.setattr(clicks, "record", slow)
    monkeypatch.setattr(clicks, "update", update_and_say_so)
    server = HttpServer(
        Starlette(
            routes=[
                actions_route(
                    signing_secret=SECRET,
                    clicks=clicks,
                    clock=None,
                    answer_budget=0.1,
                )
            ]
        ),
        "127.0.0.1",
        0,
    )
    server.start()
    try:
        body = form(world.click_payload(posted, "Acknowledge"))
        response = httpx.post(
            f"{server.url}/slack/actions",
            content=body,
            headers=sign(SECRET, int(time.time()), body),
        )
        released.set()
        assert updated.wait(5)  # the worker that recorded it updates the message itself
    finally:
        released.set()
        server.stop()
    assert response.status_code == 200  # within the budget, before the row is stored
    assert [r.action for r in ledger(world)] == ["acknowledge"]  # stored once it could be
    assert len(world.slack.updates) == 1  # and the message updated then, once
