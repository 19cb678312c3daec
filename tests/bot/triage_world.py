"""A triage test world: the App with slack-sdk's WebClient against the fake Slack Web API, and
/slack/actions served by uvicorn on 127.0.0.1, clicked with signed `block_actions` payloads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app import App, open_app
from bot.destinations.outlet import DeliveryReport
from bot.service.server import HttpServer
from bot.slack.actions_endpoint import actions_route
from bot.slack.delivery.client import build_slack_client
from state.types import Alert
from tests.bot.service_helpers import FrozenClock, loaded_config, sign
from tests.factories import T0, Clock, result, trial
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.state.helpers import pending_alerts

SECRET = "test-signing-secret-not-real"
SIGNED_AT = 1793520000  # the verifier's frozen now; payloads are signed at this time
TOKEN = "xoxb-triage-not-a-real-token"
FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "slack" / "slack_block_actions_button.json"
)
ANA = ("U0ANA12345", "ana")


def block_actions(
    action_id: str,
    value: str,
    *,
    channel: str,
    ts: str,
    action_ts: str,
    user: tuple[str, str] = ANA,
    option: bool = False,
) -> dict[str, Any]:
    """The recorded-shape payload of one click on message `ts` in `channel`."""
    payload: dict[str, Any] = json.loads(FIXTURE.read_text())
    payload["user"] |= {"id": user[0], "username": user[1], "name": user[1]}
    payload["container"] |= {"channel_id": channel, "message_ts": ts}
    payload["channel"]["id"] = channel
    payload["message"]["ts"] = ts
    action = payload["actions"][0]
    action |= {"action_id": action_id, "action_ts": action_ts}
    if option:  # a static_select: the choice, not a value
        del action["value"], action["text"], action["style"]
        action |= {"type": "static_select", "selected_option": {"value": value}}
    else:
        action["value"] = value
    return payload


def form(payload: dict[str, Any] | str) -> str:
    """The interactivity request body: one form field, `payload`."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": raw})


class InFlight:
    """How many requests the server is handling, each until its background task (the
    message's chat.update) has ended: Starlette runs it before the request's call returns."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being handled; True if that happened within `timeout`."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)

    def add(self, step: int) -> None:
        with self._changed:
            self._count += step
            self._changed.notify_all()


class _Counted:
    """Starlette middleware: `app`, each request counted in `in_flight` while it is handled."""

    def __init__(self, app: ASGIApp, in_flight: InFlight) -> None:
        self._app, self._in_flight = app, in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._in_flight.add(1)
        try:
            await self._app(scope, receive, send)
        finally:
            self._in_flight.add(-1)


@dataclass
class TriageWorld:
    app: App
    slack: FakeSlack
    clock: Clock
    url: str
    in_flight: InFlight
    clicks: int = 0

    @property
    def store(self) -> Any:
        return self.app.store

    def poll(self, **fields: Any) -> list[Alert]:
        """One ClinicalTrials.gov poll of FUSION with `fields` changed; the alerts it stored."""
        before = {a.id for a in pending_alerts(self.store.outbox, "slack")}
        at = self.clock()
        self.store.apply_poll(result(trial(**fields)), started=at, at=at)
        return [a for a in pending_alerts(self.store.outbox, "slack") if a.id not in before]

    def deliver(self) -> list[DeliveryReport]:
        return self.app.deliver()

    def message_of(self, alert: Alert) -> dict[str, Any]:
        """The Slack message of a posted alert (as updated since)."""
        return next(
            m for m in self.slack.messages if m["metadata"]["event_payload"]["alert_id"] == alert.id
        )

    def button(self, alert: Alert, text_start: str) -> dict[str, Any]:
        """The element of the alert's actions block whose text starts with `text_start`."""
        actions = [b for b in self.message_of(alert)["blocks"] if b["type"] == "actions"]
        assert len(actions) == 1
        for element in actions[0]["elements"]:
            label = element.get("text") or element.get("placeholder") or {}
            if label.get("text", "").startswith(text_start):
                return dict(element)
        raise AssertionError(f"no {text_start!r} in {actions[0]['elements']}")

    def click_payload(
        self, alert: Alert, text_start: str, *, user: tuple[str, str] = ANA, again: bool = False
    ) -> dict[str, Any]:
        """A click on the alert's button `text_start` (`again`: Slack redelivers the last one)."""
        element = self.button(alert, text_start)
        message = self.message_of(alert)
        if not again:
            self.clicks += 1
        return block_actions(
            element["action_id"],
            element["value"],
            channel=message["channel"],
            ts=message["ts"],
            action_ts=f"{SIGNED_AT}.{self.clicks:06d}",
            user=user,
        )

    def post(self, body: str, *, at: int = SIGNED_AT, secret: str = SECRET) -> httpx.Response:
        """POST a signed interactivity request to /slack/actions."""
        return httpx.post(
            f"{self.url}/slack/actions", content=body, headers=sign(secret, at, body), timeout=10
        )

    def click(self, alert: Alert, text_start: str, **kw: Any) -> httpx.Response:
        return self.post(form(self.click_payload(alert, text_start, **kw)))

    def settled_updates(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The chat.update calls made, once every request sent has been handled: the update
        follows the answer, so an update that is not there by then will not come."""
        assert self.in_flight.wait_idle(timeout), f"a request was still handled after {timeout} s"
        return list(self.slack.updates)


@contextmanager
def triage_world(db_url: str, start: datetime = T0) -> Iterator[TriageWorld]:
    """The world, with FUSION's baseline stored at `start` (no alert yet)."""
    with fake_slack() as slack:
        clock = Clock(start)
        slack.now = lambda: clock().timestamp()
        config = loaded_config(
            db_url, slack={"api_url": slack.base_url, "channel": "#fus-als-watch"}
        )
        client = build_slack_client(TOKEN, slack.base_url)
        with open_app(config, clock=clock, slack_client=client) as app:
            route = actions_route(
                signing_secret=SECRET, clicks=app.clicks, clock=FrozenClock(SIGNED_AT)
            )
            in_flight = InFlight()
            served = Starlette(routes=[route], middleware=[Middleware(_Counted, in_flight)])
            server = HttpServer(served, "127.0.0.1", 0)
            server.start()
            try:
                world = TriageWorld(app, slack, clock, server.url, in_flight)
                world.poll()  # the silent baseline
                yield world
            finally:
                server.stop()
