"""Runs one trialwatch cycle the way `trialwatch check` does, for the crash and multi-process tests.

    python -m tests.fakes.driver CONFIG STATE_JSON

STATE_JSON says what the mocked ClinicalTrials.gov serves (respx, inside this process), the
fixed clock, and optionally a step at which the process kills itself with SIGKILL (by
monkeypatching here: production code has no crash hooks), a `min_gap` for the poll leases, and
whether to wait for a line on stdin before polling and before delivering (barriers that make
two processes race). It
prints one JSON line: what each poll did, what each flush delivered, how often each trial was
fetched. The test process serves the fake Slack; the database is the test's.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import respx
from slack_sdk import WebClient

import state.poll.write
from bot.app import open_app
from bot.config import load_settings
from bot.polling.pipeline import poll_once
from bot.slack.delivery.client import build_slack_client
from state.outbox import Outbox
from state.store import Store
from watchers.ctgov.watcher import ClinicalTrialsWatcher

CTGOV = "https://ctgov.test/api/v2"
TOKEN = "xoxb-driver-not-a-real-token"
CRASH_POINTS = (
    "after_fetch",  # the source answered; nothing stored
    "during_commit",  # snapshot and alerts written in the poll's transaction, not committed
    "after_commit",  # the poll committed; nothing delivered
    "after_take",  # the delivery is in flight (committed); nothing posted
    "during_post",  # Slack got the post and answered; we die before reading the answer
    "after_post",  # Slack's ok is read; not marked sent
    "after_first_sent",  # one delivery marked sent; the next not taken yet
    "during_history",  # recovering: conversations.history answered; nothing recorded
)


def die() -> None:
    """SIGKILL this process: no finally blocks, no flushes, no goodbyes."""
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _after(owner: Any, name: str, when: Callable[[Any], bool] = lambda _: True) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(result):
            die()
        return result

    setattr(owner, name, wrapper)


def _die_reading_post_answer() -> None:
    """Die once Slack's answer to a chat.postMessage is waiting on the socket, unread."""
    putrequest, getresponse = (
        http.client.HTTPConnection.putrequest,
        http.client.HTTPConnection.getresponse,
    )

    def put(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self._driver_url = url
        return putrequest(self, method, url, *args, **kwargs)

    def get(self: Any) -> Any:
        if str(getattr(self, "_driver_url", "")).endswith("chat.postMessage"):
            select.select([self.sock], [], [], 30)  # the fake has recorded it and answered
            die()
        return getresponse(self)

    http.client.HTTPConnection.putrequest = put  # type: ignore[method-assign]
    http.client.HTTPConnection.getresponse = get  # type: ignore[method-assign]


def arm(step: str) -> None:
    """Make this process kill itself at `step`."""
    if step == "after_fetch":
        _after(ClinicalTrialsWatcher, "poll")
    elif step == "during_commit":
        # The poll run is the last row written before the commit: die with it unflushed.
        original = state.poll.write.add_run

        def add_run(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            die()

        state.poll.write.add_run = add_run
    elif step == "after_commit":
        _after(Store, "apply_poll")
    elif step == "after_take":
        _after(Outbox, "take", lambda lease: lease is not None)
    elif step == "during_post":
        _die_reading_post_answer()
    elif step == "after_post":
        _after(WebClient, "chat_postMessage")
    elif step == "after_first_sent":
        original_mark = Outbox.mark_sent

        def mark_sent(self: Outbox, *args: Any, **kwargs: Any) -> bool:
            done = original_mark(self, *args, **kwargs)
            if kwargs.get("token"):
                die()
            return done

        Outbox.mark_sent = mark_sent  # type: ignore[method-assign]
    elif step == "during_history":
        _after(WebClient, "conversations_history")
    else:
        raise SystemExit(f"unknown crash point {step!r}")


def _registry(router: respx.MockRouter, registry: dict[str, Any], fetched: dict[str, int]) -> None:
    studies: dict[str, Any] = registry["studies"]

    def by_id(request: httpx.Request, nct: str) -> httpx.Response:
        fetched[nct] = fetched.get(nct, 0) + 1
        return httpx.Response(200, json=studies[nct]) if nct in studies else httpx.Response(404)

    router.get(f"{CTGOV}/version").respond(
        200, json={"apiVersion": "2.0.5", "dataTimestamp": registry["stamp"]}
    )
    router.get(url__regex=rf"{CTGOV}/studies/(?P<nct>NCT\d+)").mock(side_effect=by_id)
    router.get(f"{CTGOV}/studies").respond(200, json={"studies": [], "totalCount": 0})


def _barrier(state: dict[str, Any], step: str) -> None:
    """With `barrier`, say where we are and wait for the test's go (a line on stdin)."""
    if state.get("barrier"):
        print(step, flush=True)
        sys.stdin.readline()


def run(config_path: str, state: dict[str, Any]) -> dict[str, Any]:
    """One cycle: poll every topic (with leases), then flush the outbox; returns what it did."""
    loaded = load_settings(config_path, env={})
    now = datetime.fromisoformat(state["now"])
    slack = build_slack_client(
        TOKEN, str(loaded.settings.slack.api_url), timeout=10, sleep=lambda _s: None
    )
    min_gap = timedelta(seconds=state["min_gap_s"]) if state.get("min_gap_s") else None
    fetched: dict[str, int] = {}
    if state.get("crash"):
        arm(state["crash"])
    with (
        respx.mock(assert_all_called=False) as router,
        open_app(loaded, clock=lambda: now, slack_client=slack) as app,
    ):
        _registry(router, state["registry"], fetched)
        _barrier(state, "ready")
        polls = [
            poll_once(w, t, app.store, app.clock, min_gap=min_gap)
            for t in app.topics
            for w in app.watchers
        ]
        _barrier(state, "polled")
        deliveries = app.deliver()
    return {
        "polls": [
            {"topic": p.topic, "source": p.source, "outcome": p.outcome.value, "alerts": p.alerts}
            for p in polls
        ],
        "deliveries": [d.__dict__ for d in deliveries],
        "fetched": fetched,
    }


def main() -> None:
    """Entry point: CONFIG STATE_JSON."""
    config_path, state_path = sys.argv[1], sys.argv[2]
    with open(state_path, encoding="utf-8") as handle:
        state = json.load(handle)
    print(json.dumps(run(config_path, state)), flush=True)


if __name__ == "__main__":
    main()
