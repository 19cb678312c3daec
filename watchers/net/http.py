"""HTTP for every watcher: headers, timeouts, retries with backoff, per-host pacing, body caps."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from watchers.model import FetchError
from watchers.net.pacing import HostPacer
from watchers.net.poll_budget import PollBudget
from watchers.net.responses import (
    connect_reason,
    decode_json,
    describe,
    error_detail,
    refuse_unasked_304,
    retry_after_seconds,
)
from watchers.net.shards import ShardedTransport

__all__ = [
    "USER_AGENT",
    "Conditional",
    "Http",
    "Params",
    "build_client",
    "validator_keys",
    "validators_in",
]


def _package_version() -> str:
    try:
        return importlib.metadata.version("trialwatch")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


# ClinicalTrials.gov's edge answers 403 when the UA looks like curl or a browser but accepts one
# containing "python-httpx" (docs/sources.md#clinicaltrialsgov), so keep that token in ours.
USER_AGENT = (
    f"trialwatch/{_package_version()} (+https://github.com/trialwatch/trialwatch) "
    f"python-httpx/{httpx.__version__}"
)

Params = Mapping[str, str | int]

# Worth another try: the network or the server may be fine a moment later.
_RETRYABLE_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
    httpx.DecodingError,
)
# A DNS failure or a refused connection means the host (or this machine's network) is down,
# not busy: one quick retry covers a blip; backing off like for a 503 only makes `check` slow.
_QUICK_RETRY = 0.2
# Headers about the encoded body, which `Http` hands back decoded.
_DECODED = frozenset((b"content-encoding", b"content-length", b"transfer-encoding"))


def build_client(timeout: float = 20.0, parallel: int = 16) -> httpx.Client:
    """The shared client: our User-Agent, bounded timeouts, and enough pooled connections for
    `parallel` polls in flight (kept alive across polls); `Http` follows redirects itself."""
    client = httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=10),
        transport=ShardedTransport(_pool_limits(parallel)),
    )
    client._cookies = _CookiesWhenSet()  # the setter would copy the jar
    return client


class _CookiesWhenSet(httpx.Cookies):
    """The client's cookie jar, consulted only when a response sets a cookie.

    httpx builds urllib stand-ins for the request and the response for every response it
    reads, whether or not it carries Set-Cookie: about a tenth of an unchanged poll's CPU.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def _pool_limits(parallel: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max(100, parallel), max_keepalive_connections=max(20, parallel)
    )


def validator_keys(url: str) -> tuple[str, str]:
    """The poll-meta keys under which `Http.get_conditional` keeps a URL's validators."""
    return f"etag {url}", f"last-modified {url}"


def validators_in(meta: Mapping[str, str], url: str) -> dict[str, str]:
    """The ETag / Last-Modified entries of `url` in a poll's meta."""
    keys = validator_keys(url)
    return {k: v for k, v in meta.items() if k in keys}


@dataclass(frozen=True)
class Conditional:
    """A conditional GET's outcome: the response, or None when the server said 304."""

    response: httpx.Response | None
    meta: dict[str, str]

    @property
    def not_modified(self) -> bool:
        return self.response is None


class Http:
    """GET with per-host pacing, retries on 429/5xx/transport errors, and a body size cap."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        min_interval: float = 1.0,
        host_intervals: Mapping[str, float] | None = None,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 120.0,
        max_body_bytes: int = 20 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._pacer = HostPacer(min_interval, host_intervals, sleep=sleep, monotonic=monotonic)
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._wall_time = wall_time
        self._budget = PollBudget(monotonic)

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request this thread makes inside the block shares one wall-clock budget.

        It covers connecting, every byte, retries and their waits, and paging: past it the
        request in progress fails with a FetchError saying the poll deadline passed.
        """
        with self._budget.deadline(seconds):
            yield

    def get(
        self,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
    ) -> httpx.Response:
        """GET `url`; return the response if its status is in `accept`, else raise FetchError."""
        return self._send("GET", url, params=params, headers=headers, accept=accept)

    def post_json(
        self,
        url: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
    ) -> httpx.Response:
        """POST `body` as JSON (a search API that takes its query in the body); like `get`."""
        content = json.dumps(body).encode("utf-8")
        sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        return self._send("POST", url, headers=sent, accept=accept, content=content)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
        content: bytes | None = None,
    ) -> httpx.Response:
        target = httpx.URL(url)
        host, path = target.host, target.path
        attempts = self._max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            self._pacer.wait_turn(host)
            self._budget.check(host, path)
            try:
                response = self._read(method, target, params, headers, content)
            except httpx.ConnectError as exc:
                # Nothing reached the host: no reason to pace the next try.
                self._pacer.forgive(host)
                if attempt < min(attempts, 2):
                    self._sleep(min(self._backoff, _QUICK_RETRY))
                    continue
                raise FetchError(f"{host} did not answer: {connect_reason(exc)}") from exc
            except _RETRYABLE_ERRORS as exc:
                self._budget.check(host, path)
                if attempt < attempts:
                    self._sleep(
                        self._budget.within(self._backoff * 2.0 ** (attempt - 1), host, path)
                    )
                    continue
                raise FetchError(
                    f"{host} did not answer for {path} after {attempts} attempts: {describe(exc)}"
                ) from exc
            except httpx.RequestError as exc:  # bad scheme, redirect loop: a retry cannot help
                raise FetchError(
                    f"request to {host}{path} failed: {describe(exc)}", transient=False
                ) from exc
            status = response.status_code
            if status in accept:
                return response
            if status == 429 or status >= 500:
                if attempt < attempts:
                    delay = self._retry_delay(response, attempt, host, path)
                    self._sleep(self._budget.within(delay, host, path))
                    continue
                raise FetchError(
                    f"{host} answered HTTP {status} for {path} after {attempts} attempts"
                )
            raise FetchError(
                f"{host} answered HTTP {status} for {path}{error_detail(response)}",
                transient=False,
            )

    def get_json(
        self,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
    ) -> tuple[int, Any]:
        """Like `get`, then decode the body as JSON (ParseError if it is not JSON)."""
        response = self.get(url, params=params, headers=headers, accept=accept)
        return response.status_code, decode_json(response)

    def get_conditional(
        self,
        url: str,
        meta: Mapping[str, str],
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Conditional:
        """GET with If-None-Match / If-Modified-Since from `meta`; a 304 comes back as not modified.

        The validators live in the poll's meta (keys `etag <url>` and `last-modified <url>`), so
        they survive restarts; `Conditional.meta` holds the ones to store for next time.
        """
        etag_key, modified_key = validator_keys(
            str(httpx.URL(url, params=params)) if params else url
        )
        sent = dict(headers or {})
        if etag := meta.get(etag_key):
            sent["If-None-Match"] = etag
        if modified := meta.get(modified_key):
            sent["If-Modified-Since"] = modified
        response = self.get(url, params=params, headers=sent, accept=(200, 304))
        if response.status_code == 304:
            refuse_unasked_304(response, sent)
            kept = {k: v for k, v in meta.items() if k in (etag_key, modified_key)}
            return Conditional(response=None, meta=kept)
        fresh = {}
        if etag := response.headers.get("ETag"):
            fresh[etag_key] = etag
        if modified := response.headers.get("Last-Modified"):
            fresh[modified_key] = modified
        return Conditional(response=response, meta=fresh)

    def keep_host_under(self, host: str, min_interval: float) -> None:
        """Never ask `host` more often than every `min_interval` s, whatever the configuration
        says: for a host whose limit is a rule with a penalty (SEC blocks an address for 10
        minutes after it goes over 10 requests a second)."""
        self._pacer.keep_under(host, min_interval)

    def _read(
        self,
        method: str,
        target: httpx.URL,
        params: Params | None,
        headers: Mapping[str, str] | None,
        content: bytes | None = None,
    ) -> httpx.Response:
        merged = {"User-Agent": USER_AGENT, **(headers or {})}
        timeout = self._budget.bounded(self._client.timeout) or httpx.USE_CLIENT_DEFAULT
        request = self._client.build_request(
            method, target, params=params, headers=merged, content=content, timeout=timeout
        )
        history: list[httpx.Response] = []
        # Redirects are followed here, never by the client, whatever it was built with: only
        # this loop can refuse a hop to another host before anything is sent there.
        while True:
            response = self._client.send(request, stream=True, follow_redirects=False)
            with contextlib.closing(response):
                hop = response.next_request
                if hop is None:
                    return self._body(response, target, history)
            self._may_follow(target, hop.url, len(history))
            history.append(response)
            self._pacer.wait_turn(hop.url.host)
            self._budget.check(hop.url.host, hop.url.path)
            request = hop

    def _may_follow(self, origin: httpx.URL, hop: httpx.URL, hops: int) -> None:
        # The one redirect policy: a source's answer comes from the source's host (http ->
        # https included) or not at all; another host could be anything, an internal service
        # included, and what it says must never reach a poll's health text.
        where = f"{origin.host}{origin.path}"
        if hop.host != origin.host:
            raise FetchError(
                f"{where} redirected to another host, {hop.host or 'none'}; not followed "
                "(configure that URL if the source has moved there)",
                transient=False,
            )
        if hops >= self._client.max_redirects:
            raise FetchError(
                f"{where} redirected more than {self._client.max_redirects} times; not followed",
                transient=False,
            )

    def _body(
        self, response: httpx.Response, target: httpx.URL, history: list[httpx.Response]
    ) -> httpx.Response:
        # Stream so an endless or huge body is refused before it is all in memory.
        where = f"{target.host}{target.path}"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_body_bytes:
            raise FetchError(self._too_big(where, f"announced {length} bytes"), transient=False)
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self._max_body_bytes:
                raise FetchError(self._too_big(where, "kept sending"), transient=False)
            chunks.append(chunk)
            self._budget.check(target.host, target.path, f"after {total} bytes")
        # The body is already decoded, so drop the headers that would make httpx decode it again.
        # The others are kept as the bytes that came: a value that is not ASCII (a UTF-8 file
        # name) cannot be encoded back, and decoding each one to re-encode it cost CPU per poll.
        kept = [
            (name, value) for name, value in response.headers.raw if name.lower() not in _DECODED
        ]
        return httpx.Response(
            response.status_code,
            headers=kept,
            content=b"".join(chunks),
            request=response.request,
            history=history,
        )

    def _too_big(self, where: str, what: str) -> str:
        return f"{where} {what}, more than the {self._max_body_bytes} bytes we accept; not read"

    def _retry_delay(self, response: httpx.Response, attempt: int, host: str, path: str) -> float:
        wait = retry_after_seconds(response, self._wall_time())
        if wait is None:
            return self._backoff * 2.0 ** (attempt - 1)
        if wait > self._max_retry_after:
            raise FetchError(
                f"{host} answered HTTP {response.status_code} for {path} and asked us to wait "
                f"{wait:.0f} s, longer than the {self._max_retry_after:.0f} s we wait"
            )
        return wait
