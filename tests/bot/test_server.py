"""The HTTP surface over real HTTP (uvicorn on 127.0.0.1): signed slash commands and /healthz."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.signature import Clock

from bot.app import App, open_app
from bot.service.server import BUSY, HttpServer, create_asgi_app, health_report
from bot.slack.commands import StatusCommand
from state.store import Store, create_store_engine
from tests.bot.service_helpers import FrozenClock, free_port, loaded_config, seed_ulefnersen, sign
from tests.factories import T0
from tests.factories import Clock as WallClock
from tests.state.helpers import routed

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
VECTOR = json.loads((EXAMPLES / "slack_signature_official_test_vector.json").read_text())
STATUS_SIGNING = json.loads((EXAMPLES / "slack_slash_command_status_signing.json").read_text())
SECRET = STATUS_SIGNING["signing_secret"]
TS = int(STATUS_SIGNING["timestamp"])


def read_http_example(name: str) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of a recorded HTTP request."""
    head, _, body = (EXAMPLES / name).read_text().partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    return headers, body.rstrip("\n").encode()


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with open_app(loaded_config(db_url), clock=WallClock(T0)) as application:
        seed_ulefnersen(application.store)
        yield application


Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start a server for an ASGI app on a free 127.0.0.1 port; return its base URL."""
    servers: list[HttpServer] = []

    def start(**kw: Any) -> str:
        server = HttpServer(create_asgi_app(**kw), "127.0.0.1", 0)
        server.start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        assert server.stop(5)


def for_app(app: App, secret: str | None = SECRET, now: float = TS, **kw: Any) -> dict[str, Any]:
    return {
        "answer": StatusCommand.for_app(app).answer,
        "health": lambda: health_report(app.store, ["clinicaltrials", "openfda"]),
        "signing_secret": secret,
        "clock": FrozenClock(now),
        # The budget has its own test below; here a busy machine must not turn the answer
        # these tests check into "trialwatch is slow" (seen with a 2.5 s budget under load).
        "answer_budget": 30.0,
        **kw,
    }


def test_official_slack_test_vector_is_accepted(app: App, serve: Serve) -> None:
    url = serve(
        **for_app(
            app, VECTOR["signing_secret"], int(VECTOR["headers"]["X-Slack-Request-Timestamp"])
        )
    )
    response = httpx.post(
        f"{url}/slack/commands", content=VECTOR["body"], headers=VECTOR["headers"]
    )
    assert response.status_code == 200
    # Its text is empty: the answer is the list of watched topics.
    assert response.json()["text"] == "Watched topics: ulefnersen, tofersen"


def test_signed_status_example_answers_with_the_card(app: App, serve: Serve) -> None:
    headers, body = read_http_example("slack_slash_command_status_request.http")
    assert body == STATUS_SIGNING["body"].encode()
    url = serve(**for_app(app))
    response = httpx.post(f"{url}/slack/commands", content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "ulefnersen status"},
    }
    assert "Status: *Completed*" in json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize(
    ("case", "mutate", "now"),
    [
        ("wrong signature", lambda h: h | {"X-Slack-Signature": "v0=" + "0" * 64}, TS),
        ("another secret", lambda h: h | sign("not-the-secret", TS, STATUS_SIGNING["body"]), TS),
        ("stale by 301 s", lambda h: h, TS + 301),
        ("from the future by 301 s", lambda h: h, TS - 301),
        ("no signature", lambda h: {k: v for k, v in h.items() if k != "X-Slack-Signature"}, TS),
        ("no timestamp", lambda h: {k: v for k, v in h.items() if "Timestamp" not in k}, TS),
        ("timestamp not a number", lambda h: h | {"X-Slack-Request-Timestamp": "soon"}, TS),
    ],
)
def test_unverifiable_requests_get_401(
    app: App, serve: Serve, case: str, mutate: Callable[[dict[str, str]], dict[str, str]], now: int
) -> None:
    headers, body = read_http_example("slack_slash_command_status_request.http")
    url = serve(**for_app(app, now=now))
    response = httpx.post(f"{url}/slack/commands", content=body, headers=mutate(headers))
    assert response.status_code == 401, case
    assert "ulefnersen" not in response.text


def test_a_request_300_s_old_is_still_accepted(app: App, serve: Serve) -> None:
    headers, body = read_http_example("slack_slash_command_status_request.http")
    url = serve(**for_app(app, now=TS + 300))
    assert httpx.post(f"{url}/slack/commands", content=body, headers=headers).status_code == 200


def test_a_tampered_body_is_rejected(app: App, serve: Serve) -> None:
    headers, body = read_http_example("slack_slash_command_status_request.http")
    url = serve(**for_app(app))
    tampered = body.replace(b"text=ulefnersen", b"text=tofersen")
    del headers["Content-Length"]  # httpx sets the new length
    assert httpx.post(f"{url}/slack/commands", content=tampered, headers=headers).status_code == 401


def post_command(url: str, text: str, now: int = TS) -> httpx.Response:
    body = f"command=%2Fstatus&text={text}&user_id=U2147483697&channel_id=C2147483705"
    return httpx.post(f"{url}/slack/commands", content=body, headers=sign(SECRET, now, body))


@pytest.mark.parametrize(
    ("text", "response_type", "says"),
    [
        ("ulefnersen+public", "in_channel", "ulefnersen status"),
        ("NCT04768972", "ephemeral", "ulefnersen status"),
        ("ulefnersn", "ephemeral", "Did you mean *ulefnersen*?"),
        ("ulefnersn+public", "ephemeral", "Did you mean *ulefnersen*?"),
        ("", "ephemeral", "*Watched topics*"),
    ],
    ids=["public", "nct-id", "unknown", "unknown-public", "empty"],
)
def test_status_replies(app: App, serve: Serve, text: str, response_type: str, says: str) -> None:
    url = serve(**for_app(app))
    response = post_command(url, text)
    assert response.status_code == 200
    assert response.json()["response_type"] == response_type
    assert says in json.dumps(response.json(), ensure_ascii=False)


def test_without_a_signing_secret_commands_answer_503(app: App, serve: Serve) -> None:
    url = serve(**for_app(app, secret=None))
    response = post_command(url, "ulefnersen")
    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET is not set" in response.text


def test_a_huge_body_is_refused(app: App, serve: Serve) -> None:
    url = serve(**for_app(app))
    assert post_command(url, "x" * 100_000).status_code == 413


def test_a_slow_answer_still_acks_within_slacks_3_seconds(serve: Serve) -> None:
    release = threading.Event()

    def stuck(text: str) -> dict[str, Any]:
        release.wait(10)
        return {"text": "too late"}

    url = serve(
        answer=stuck,
        health=dict,
        signing_secret=SECRET,
        clock=FrozenClock(TS),
        answer_budget=0.2,
    )
    try:
        response = post_command(url, "ulefnersen")
    finally:
        release.set()
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": BUSY}


def test_an_error_while_answering_is_a_polite_reply(serve: Serve) -> None:
    def broken(text: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    url = serve(answer=broken, health=dict, signing_secret=SECRET, clock=FrozenClock(TS))
    response = post_command(url, "ulefnersen")
    assert response.status_code == 200
    assert "could not read its status" in response.json()["text"]


def test_healthz_reports_last_success_per_source(app: App, serve: Serve) -> None:
    at = T0.replace(day=5)
    routed(app.store, {"console": None}).record_failure(
        "tofersen", "openfda", "HTTP 500", started=at, at=at
    )
    url = serve(**for_app(app))
    response = httpx.get(f"{url}/healthz")
    assert response.status_code == 200
    body = response.json()
    destinations = body.pop("destinations")
    assert body.pop("failing_destinations") == []
    assert destinations["console"]["ok"] is True  # an alert waiting is not a failure
    assert body == {
        "status": "ok",
        "database": "ok",
        "sources": {
            "clinicaltrials": {"last_success": "2026-11-02T08:00:00+00:00", "failing_topics": []},
            "openfda": {"last_success": None, "failing_topics": ["tofersen"]},
        },
        "failing": ["openfda"],
    }
    assert "HTTP 500" not in response.text  # error details stay in the logs and /status


def test_healthz_is_503_when_the_database_is_unreachable(serve: Serve) -> None:
    # Nothing listens on this port: every connection is refused at once.
    down = Store(create_store_engine(f"postgresql+psycopg://tw@127.0.0.1:{free_port()}/tw"))
    url = serve(
        answer=dict,
        health=lambda: health_report(down, ["clinicaltrials"]),
        signing_secret=SECRET,
        clock=Clock(),
    )
    response = httpx.get(f"{url}/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "127.0.0.1" not in response.text


def test_keep_alive_responses_are_not_held_back(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without TCP_NODELAY on accepted sockets every response waits ~40 ms (Nagle + delayed
    # ACK). Checked on the sockets the server accepts, not on the clock (a busy machine is slow).
    accepted: list[socket.socket] = []
    accept = socket.socket.accept

    def recording_accept(self: socket.socket) -> tuple[socket.socket, Any]:
        connection, address = accept(self)
        accepted.append(connection)
        return connection, address

    monkeypatch.setattr(socket.socket, "accept", recording_accept)
    url = serve(answer=dict, health=dict, signing_secret=SECRET, clock=Clock())
    with httpx.Client(base_url=url) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        assert accepted, "the server accepted no connection"
        assert all(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for c in accepted)
