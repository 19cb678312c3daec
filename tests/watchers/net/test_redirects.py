"""Redirects stay on the source's host: a real server on 127.0.0.1, then respx for the rules."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.federal_register.watcher import FederalRegisterWatcher
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http, build_client
from watchers.net.responses import decode_json, error_detail

SECRET = b"internal-token=hunter2 do not leak this line"
NO_DOCUMENTS = b'{"description": "Documents matching", "count": 0}'


@contextmanager
def redirecting_server() -> Iterator[tuple[int, Counter[str]]]:
    """/api/v1/ moves to /v2/ on the same host, /v2/ answers; /evil/ 302s to localhost's secret."""
    asked: Counter[str] = Counter()
    port = 0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            asked[path] += 1
            if path.startswith("/api/v1/"):
                self._send(301, b"", location=f"http://127.0.0.1:{port}/v2{path[7:]}")
            elif path.startswith("/evil/"):
                self._send(302, b"", location=f"http://localhost:{port}/internal/secret.txt")
            elif path == "/internal/secret.txt":
                self._send(200, SECRET, ctype="text/plain")
            else:
                self._send(200, NO_DOCUMENTS)

        def _send(
            self, status: int, body: bytes, *, location: str = "", ctype: str = "application/json"
        ) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield port, asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _watcher(client: httpx.Client, base: str) -> FederalRegisterWatcher:
    http = Http(client, min_interval=0.0, max_retries=0)
    return FederalRegisterWatcher(http, lambda: date(2026, 11, 29), base_url=base)


def test_a_redirect_to_another_host_fails_the_poll_and_nothing_is_asked_there() -> None:
    with (
        redirecting_server() as (port, asked),
        build_client() as client,
        pytest.raises(FetchError) as caught,
    ):
        _watcher(client, f"http://127.0.0.1:{port}/evil").poll(Topic("ulefnersen"), {})
    message = str(caught.value)
    assert "redirected to another host, localhost" in message
    assert "hunter2" not in message and "internal-token" not in message
    assert asked["/internal/secret.txt"] == 0
    assert caught.value.transient is False


def test_a_client_told_to_follow_redirects_still_stays_on_the_host() -> None:
    # The policy is Http's, not the client's: a caller's own client cannot switch it off.
    with (
        redirecting_server() as (port, asked),
        httpx.Client(follow_redirects=True) as client,
        pytest.raises(FetchError, match="another host, localhost"),
    ):
        _watcher(client, f"http://127.0.0.1:{port}/evil").poll(Topic("ulefnersen"), {})
    assert asked["/internal/secret.txt"] == 0


def test_a_redirect_on_the_same_host_is_followed() -> None:
    with redirecting_server() as (port, asked), build_client() as client:
        result = _watcher(client, f"http://127.0.0.1:{port}/api/v1").poll(Topic("ulefnersen"), {})
    assert result.observations == ()
    assert asked["/v2/documents.json"] >= 1


URL = "http://api.example.org/v1/things"


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def _http(client: httpx.Client, clock: FakeClock) -> Http:
    return Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)


def test_http_to_https_on_the_same_host_is_followed(mock: respx.MockRouter) -> None:
    mock.get(URL).respond(301, headers={"Location": URL.replace("http:", "https:")})
    mock.get(URL.replace("http:", "https:")).respond(200, json={"ok": True})
    with httpx.Client() as client:
        response = _http(client, FakeClock()).get(URL)
    assert response.json() == {"ok": True}
    assert str(response.url).startswith("https://api.example.org/")
    assert [r.status_code for r in response.history] == [301]


def test_a_redirect_loop_fails_with_a_clear_error(mock: respx.MockRouter) -> None:
    route = mock.get(URL).respond(302, headers={"Location": URL})
    with httpx.Client(max_redirects=3) as client, pytest.raises(FetchError) as caught:
        _http(client, FakeClock()).get(URL)
    assert (
        str(caught.value) == "api.example.org/v1/things redirected more than 3 times; not followed"
    )
    assert route.call_count == 4


def test_a_relative_redirect_stays_on_the_host(mock: respx.MockRouter) -> None:
    mock.get(URL).respond(307, headers={"Location": "/v2/things"})
    mock.get("http://api.example.org/v2/things").respond(200, json=[1])
    with httpx.Client() as client:
        assert _http(client, FakeClock()).get(URL).json() == [1]


def _foreign_answer(body: bytes, ctype: str, status: int = 200) -> httpx.Response:
    hop = httpx.Response(302, request=httpx.Request("GET", URL))
    return httpx.Response(
        status,
        headers={"Content-Type": ctype},
        content=body,
        request=httpx.Request("GET", "http://localhost:8080/internal/secret.txt"),
        history=[hop],
    )


def test_a_foreign_answer_is_never_quoted_in_an_error() -> None:
    # However it was fetched: the details that quote a body quote only the asked host's.
    with pytest.raises(ParseError) as caught:
        decode_json(_foreign_answer(SECRET, "text/plain"))
    assert "hunter2" not in str(caught.value) and "internal-token" not in str(caught.value)
    assert error_detail(_foreign_answer(SECRET, "text/plain", status=400)) == ""


def test_the_asked_hosts_own_answer_is_still_quoted() -> None:
    own = httpx.Response(
        400,
        text="bad filter",
        request=httpx.Request("GET", URL),
        headers={"Content-Type": "text/plain"},
    )
    assert error_detail(own) == ": bad filter"
