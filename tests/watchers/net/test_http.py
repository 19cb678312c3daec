"""Http: headers, retries, Retry-After, pacing, body caps, JSON decoding. No real network."""

from __future__ import annotations

import errno
import gzip
import json
import socket
from collections.abc import Iterator

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.model import FetchError, ParseError
from watchers.net.http import USER_AGENT, Http, build_client
from watchers.net.responses import is_unreachable

URL = "https://api.example.org/v1/things"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    # assert_all_mocked (the default) makes any unmocked request fail the test.
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as plain:
        yield plain


def make_http(client: httpx.Client, clock: FakeClock, **kwargs: float) -> Http:
    return Http(client, sleep=clock.sleep, monotonic=clock.monotonic, **kwargs)  # type: ignore[arg-type]


def test_user_agent_names_us_and_httpx() -> None:
    assert USER_AGENT.startswith("trialwatch/")
    assert f"python-httpx/{httpx.__version__}" in USER_AGENT


def test_build_client_sets_agent_and_timeouts_and_leaves_redirects_to_http() -> None:
    with build_client(timeout=5.0) as built:
        assert built.headers["User-Agent"] == USER_AGENT
        assert built.follow_redirects is False  # Http follows them, on the source's host only
        assert built.timeout.read == 5.0
        assert built.timeout.connect == 10


def test_built_client_still_keeps_a_cookie_a_server_sets(
    mock: respx.MockRouter, clock: FakeClock
) -> None:
    # The jar is skipped for responses without Set-Cookie (cheaper), never for one with it.
    route = mock.get(URL).mock(
        side_effect=[
            httpx.Response(200, json={}),
            httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"}),
            httpx.Response(200, json={}),
        ]
    )
    with build_client() as built:
        http = make_http(built, clock, min_interval=0.0)
        for _ in range(3):
            http.get(URL)
    sent = [call.request.headers.get("Cookie") for call in route.calls]
    assert sent == [None, None, "session=abc"]


def test_get_sends_our_user_agent_even_on_a_plain_client(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    route = mock.get(URL).respond(200, json={})
    make_http(client, clock).get(URL)
    agent = route.calls.last.request.headers["User-Agent"]
    assert "trialwatch/" in agent
    assert "python-httpx" in agent


def test_server_error_then_success_is_retried_after_backoff(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    route = mock.get(URL)
    route.side_effect = [httpx.Response(500), httpx.Response(200, json={"ok": True})]
    status, doc = make_http(client, clock).get_json(URL)
    assert (status, doc) == (200, {"ok": True})
    assert route.call_count == 2
    assert clock.sleeps == [1.0]


def test_persistent_5xx_fails_transient_after_all_attempts(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    route = mock.get(URL).respond(503)
    with pytest.raises(FetchError) as caught:
        make_http(client, clock).get(URL)
    assert caught.value.transient is True
    assert str(caught.value) == "api.example.org answered HTTP 503 for /v1/things after 4 attempts"
    assert route.call_count == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_429_retry_after_seconds_is_honoured(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).side_effect = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json=[]),
    ]
    make_http(client, clock).get(URL)
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_measured_from_server_date(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    headers = {
        "Date": "Wed, 14 Oct 2026 09:00:00 GMT",
        "Retry-After": "Wed, 14 Oct 2026 09:00:30 GMT",
    }
    mock.get(URL).side_effect = [httpx.Response(503, headers=headers), httpx.Response(200)]
    make_http(client, clock).get(URL)
    assert clock.sleeps == [30.0]


def test_retry_after_longer_than_cap_fails_instead_of_sleeping(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    route = mock.get(URL).respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError, match="asked us to wait 3600 s") as caught:
        make_http(client, clock, max_retry_after=120.0).get(URL)
    assert caught.value.transient is True
    assert clock.sleeps == []
    assert route.call_count == 1


def test_client_error_is_not_retried_and_says_what_the_server_said(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    body = "Error parsing query in Intervention / treatment: Unexpected token"
    route = mock.get(URL).respond(400, text=body)
    with pytest.raises(FetchError) as caught:
        make_http(client, clock).get(URL)
    assert caught.value.transient is False
    assert str(caught.value) == f"api.example.org answered HTTP 400 for /v1/things: {body}"
    assert route.call_count == 1
    assert clock.sleeps == []


def test_accepted_error_status_is_returned(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).respond(404, text="not found")
    response = make_http(client, clock).get(URL, accept=(200, 404))
    assert response.status_code == 404
    assert response.text == "not found"


def test_timeouts_are_retried_then_fail_transient(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    route = mock.get(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(FetchError, match=r"did not answer for /v1/things after 2 attempts") as e:
        make_http(client, clock, max_retries=1).get(URL)
    assert e.value.transient is True
    assert "ReadTimeout" in str(e.value)
    assert route.call_count == 2
    assert clock.sleeps == [1.0]


def test_connection_refused_then_success(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).side_effect = [httpx.ConnectError("refused"), httpx.Response(200, text="ok")]
    http = make_http(client, clock, backoff=0.5, min_interval=0.0)
    assert http.get(URL).text == "ok"
    # A refused connection is not a busy server: one quick retry, not the 503 backoff.
    assert clock.sleeps == [0.2]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
    ],
    ids=["dns", "refused", "no-route"],
)
def test_unreachable_hosts_fail_after_one_quick_retry(
    mock: respx.MockRouter,
    client: httpx.Client,
    clock: FakeClock,
    error: OSError,
    reason: str,
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(str(error), request=request) from error

    route = mock.get(URL).mock(side_effect=fail)
    http = make_http(client, clock, max_retries=3, backoff=1.0, min_interval=1.0)
    with pytest.raises(FetchError) as caught:
        http.get(URL)
    assert str(caught.value) == f"api.example.org did not answer: {reason}"
    assert is_unreachable(str(caught.value))
    assert route.call_count == 2  # not 4, as for a 503
    assert clock.sleeps == [0.2]  # and no pacing wait: nothing reached the host


def test_a_real_refused_connection_fails_fast(clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with httpx.Client() as real:
        http = make_http(real, clock, max_retries=3, backoff=1.0)
        with pytest.raises(FetchError, match=r"^127.0.0.1 did not answer: connection refused$"):
            http.get(f"http://127.0.0.1:{port}/feed.xml")
    assert clock.sleeps == [0.2]


def test_other_errors_are_not_unreachable() -> None:
    assert not is_unreachable("api.example.org answered HTTP 503 for /x after 4 attempts")
    assert not is_unreachable(None)


def test_pacing_still_applies_when_backoff_is_shorter(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).side_effect = [httpx.Response(502), httpx.Response(200)]
    make_http(client, clock, backoff=0.25, min_interval=1.0).get(URL)
    assert clock.sleeps == [0.25, 0.75]  # the host still gets its 1 s between requests


def test_query_string_secrets_never_reach_error_messages(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(url__startswith=URL).respond(401, json={"error": "bad api_key=SECRET123"})
    with pytest.raises(FetchError) as caught:
        make_http(client, clock).get(f"{URL}?api_key=SECRET123", params={"token": "SECRET456"})
    assert "SECRET" not in str(caught.value)
    assert "/v1/things" in str(caught.value)


def test_same_host_within_min_interval_waits_for_the_remainder(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(url__startswith="https://api.example.org/").respond(200)
    mock.get("https://other.example.net/").respond(200)
    http = make_http(client, clock, min_interval=1.0)
    http.get(URL)
    clock.now += 0.25
    http.get("https://other.example.net/")  # another host: no wait
    http.get(f"{URL}/2")
    assert clock.sleeps == [pytest.approx(0.75)]
    clock.now += 5
    http.get(URL)  # long after: no wait
    assert len(clock.sleeps) == 1


def test_per_host_interval_override(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).respond(200)
    http = Http(
        client,
        host_intervals={"api.example.org": 5.0},
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    http.get(URL)
    http.get(URL)
    assert clock.sleeps == [5.0]


def test_body_over_cap_by_content_length_is_refused(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).respond(200, content=b"x" * 101)
    with pytest.raises(FetchError, match="announced 101 bytes") as caught:
        make_http(client, clock, max_body_bytes=100).get(URL)
    assert caught.value.transient is False


def test_streamed_body_over_cap_is_refused_while_reading(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    chunks = iter([b"x" * 60, b"y" * 60, b"z" * 60])  # chunked: no Content-Length
    mock.get(URL).mock(return_value=httpx.Response(200, content=chunks))
    with pytest.raises(FetchError, match="kept sending, more than the 100 bytes"):
        make_http(client, clock, max_body_bytes=100).get(URL)


def test_body_at_cap_is_read(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    mock.get(URL).respond(200, content=b"x" * 100)
    assert len(make_http(client, clock, max_body_bytes=100).get(URL).content) == 100


def test_compressed_body_is_decoded_once(
    mock: respx.MockRouter, client: httpx.Client, clock: FakeClock
) -> None:
    payload = json.dumps({"studies": []}).encode()
    mock.get(URL).respond(
        200,
        content=gzip.compress(payload),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert make_http(client, clock).get_json(URL) == (200, {"studies": []})


BAD_JSON = {
    "html error page with 200": (
        "text/html; charset=utf-8",
        b"<!DOCTYPE html>\n<html><body>Service unavailable</body></html>",
        "expected JSON from api.example.org/v1/things, got text/html (starts '<!DOCTYPE html>",
    ),
    "empty body": (
        "application/json",
        b"",
        "expected JSON from api.example.org/v1/things, got an empty body (HTTP 200)",
    ),
    "truncated json": (
        "application/json",
        b'{"studies": [{"protocolSection"',
        'got application/json (starts \'{"studies": [{"protocolSection"\') that does not parse',
    ),
}


@pytest.mark.parametrize(("ctype", "body", "message"), BAD_JSON.values(), ids=BAD_JSON.keys())
def test_get_json_rejects_what_is_not_json(
    mock: respx.MockRouter,
    client: httpx.Client,
    clock: FakeClock,
    ctype: str,
    body: bytes,
    message: str,
) -> None:
    mock.get(URL).respond(200, content=body, headers={"Content-Type": ctype})
    with pytest.raises(ParseError) as caught:
        make_http(client, clock).get_json(URL)
    assert message in str(caught.value)
    assert caught.value.transient is False


def test_conditional_get_sends_validators_and_treats_304_as_not_modified() -> None:
    url = "https://www.ema.europa.eu/en/news.xml"
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get(url)
        route.side_effect = [
            httpx.Response(
                200,
                text="<rss/>",
                headers={"ETag": '"v1"', "Last-Modified": "Sat, 21 Nov 2026 08:00:00 GMT"},
            ),
            httpx.Response(304),
        ]
        http = Http(httpx.Client(), sleep=lambda _s: None, min_interval=0)
        first = http.get_conditional(url, {})
        assert first.response is not None and first.response.text == "<rss/>"
        assert first.meta == {
            f"etag {url}": '"v1"',
            f"last-modified {url}": "Sat, 21 Nov 2026 08:00:00 GMT",
        }
        second = http.get_conditional(url, first.meta)
        assert second.not_modified
        assert second.meta == first.meta  # kept for the next poll
        sent = route.calls[1].request.headers
        assert sent["If-None-Match"] == '"v1"'
        assert sent["If-Modified-Since"] == "Sat, 21 Nov 2026 08:00:00 GMT"
        assert "If-None-Match" not in route.calls[0].request.headers
