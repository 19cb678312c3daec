"""HTTP for every watcher: headers, timeouts, retries with backoff, per-host pacing, body caps."""

from __future__ import annotations

import contextlib
import errno
import importlib.metadata
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from watchers.model import FetchError, ParseError
from watchers.redact import scrub_url_secrets

__all__ = [
    "USER_AGENT",
    "Conditional",
    "Http",
    "Params",
    "build_client",
    "decode_json",
    "is_unreachable",
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
_SNIPPET_LEN = 200
# A DNS failure or a refused connection means the host (or this machine's network) is down,
# not busy: one quick retry covers a blip; backing off like for a 503 only makes `check` slow.
_QUICK_RETRY = 0.2
_UNREACHABLE = re.compile(
    r"^\S+ did not answer: (?:DNS lookup failed|connection refused|network unreachable|"
    r"cannot connect)"
)


def build_client(timeout: float = 20.0) -> httpx.Client:
    """The shared client: our User-Agent, redirects followed, bounded timeouts."""
    return httpx.Client(
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=10),
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
        self._min_interval = min_interval
        self._host_intervals = dict(host_intervals or {})
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall_time = wall_time
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()
        self._budget = threading.local()  # this thread's poll deadline (see `deadline`)

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request this thread makes inside the block shares one wall-clock budget.

        It covers connecting, every byte, retries and their waits, and paging: past it the
        request in progress fails with a FetchError saying the poll deadline passed.
        """
        outer: _Budget | None = getattr(self._budget, "current", None)
        mine = _Budget(self._monotonic() + seconds, seconds)
        self._budget.current = mine if outer is None or mine.until < outer.until else outer
        try:
            yield
        finally:
            self._budget.current = outer

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
            self._pace(host)
            self._check_deadline(host, path)
            try:
                response = self._read(method, target, params, headers, content)
            except httpx.ConnectError as exc:
                self._forgive(host)  # nothing reached the host: no reason to pace the next try
                if attempt < min(attempts, 2):
                    self._sleep(min(self._backoff, _QUICK_RETRY))
                    continue
                raise FetchError(f"{host} did not answer: {_connect_reason(exc)}") from exc
            except _RETRYABLE_ERRORS as exc:
                self._check_deadline(host, path)
                if attempt < attempts:
                    self._sleep(
                        self._within_deadline(self._backoff * 2.0 ** (attempt - 1), host, path)
                    )
                    continue
                raise FetchError(
                    f"{host} did not answer for {path} after {attempts} attempts: {_describe(exc)}"
                ) from exc
            except httpx.RequestError as exc:  # bad scheme, redirect loop: a retry cannot help
                raise FetchError(
                    f"request to {host}{path} failed: {_describe(exc)}", transient=False
                ) from exc
            status = response.status_code
            if status in accept:
                return response
            if status == 429 or status >= 500:
                if attempt < attempts:
                    delay = self._retry_delay(response, attempt, host, path)
                    self._sleep(self._within_deadline(delay, host, path))
                    continue
                raise FetchError(
                    f"{host} answered HTTP {status} for {path} after {attempts} attempts"
                )
            raise FetchError(
                f"{host} answered HTTP {status} for {path}{_error_detail(response)}",
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
            _refuse_unasked_304(response, sent)
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
        with self._lock:
            current = self._host_intervals.get(host, self._min_interval)
            self._host_intervals[host] = max(current, min_interval)

    def _pace(self, host: str) -> None:
        # Reserve the next free slot for this host under the lock, then sleep outside it, so
        # threads polling different hosts never wait on each other.
        interval = self._host_intervals.get(host, self._min_interval)
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = start + interval
        if start > now:
            self._sleep(start - now)

    def _forgive(self, host: str) -> None:
        with self._lock:
            self._next_slot[host] = min(self._next_slot.get(host, 0.0), self._monotonic())

    def _read(
        self,
        method: str,
        target: httpx.URL,
        params: Params | None,
        headers: Mapping[str, str] | None,
        content: bytes | None = None,
    ) -> httpx.Response:
        # Stream so an endless or huge body is refused before it is all in memory.
        merged = {"User-Agent": USER_AGENT, **(headers or {})}
        timeout = self._bounded_timeout() or httpx.USE_CLIENT_DEFAULT
        with self._client.stream(
            method, target, params=params, headers=merged, content=content, timeout=timeout
        ) as response:
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
                self._check_deadline(target.host, target.path, f"after {total} bytes")
        # The body is already decoded, so drop the headers that would make httpx decode it again.
        kept = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=kept,
            content=b"".join(chunks),
            request=response.request,
            history=response.history,
        )

    def _remaining(self) -> float | None:
        budget: _Budget | None = getattr(self._budget, "current", None)
        return None if budget is None else budget.until - self._monotonic()

    def _check_deadline(self, host: str, path: str, progress: str = "") -> None:
        # A server trickling one byte a second never trips a read timeout: count the total.
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise self._deadline_error(host, path, progress)

    def _within_deadline(self, delay: float, host: str, path: str) -> float:
        """`delay`, unless waiting that long would outlast the poll deadline: then fail now."""
        remaining = self._remaining()
        if remaining is not None and delay >= remaining:
            raise self._deadline_error(host, path, f"with a retry due in {delay:.0f} s")
        return delay

    def _deadline_error(self, host: str, path: str, progress: str) -> FetchError:
        budget: _Budget = self._budget.current
        detail = f" ({progress})" if progress else ""
        return FetchError(
            f"{host} timed out for {path}: no complete answer within the poll deadline of "
            f"{budget.seconds:g} s{detail}"
        )

    def _bounded_timeout(self) -> httpx.Timeout | None:
        """The client's timeouts, each cut to what is left of the poll deadline."""
        remaining = self._remaining()
        if remaining is None:
            return None
        left = max(remaining, 0.001)
        base = self._client.timeout
        return httpx.Timeout(
            connect=min(base.connect or left, left),
            read=min(base.read or left, left),
            write=min(base.write or left, left),
            pool=min(base.pool or left, left),
        )

    def _too_big(self, where: str, what: str) -> str:
        return f"{where} {what}, more than the {self._max_body_bytes} bytes we accept; not read"

    def _retry_delay(self, response: httpx.Response, attempt: int, host: str, path: str) -> float:
        wait = _retry_after_seconds(response, self._wall_time())
        if wait is None:
            return self._backoff * 2.0 ** (attempt - 1)
        if wait > self._max_retry_after:
            raise FetchError(
                f"{host} answered HTTP {response.status_code} for {path} and asked us to wait "
                f"{wait:.0f} s, longer than the {self._max_retry_after:.0f} s we wait"
            )
        return wait


@dataclass(frozen=True)
class _Budget:
    until: float  # on the Http's monotonic clock
    seconds: float


def _refuse_unasked_304(response: httpx.Response, sent: Mapping[str, str]) -> None:
    # "Not modified" since what? Without a validator it means nothing, and taking it as an
    # empty baseline would make the first real answer alert every item as new.
    if not ({"If-None-Match", "If-Modified-Since"} & sent.keys()):
        where = f"{response.url.host}{response.url.path}"
        raise FetchError(
            f"{where} answered 304 Not Modified to a request that sent no validator; "
            "there is nothing it can be unchanged from"
        )


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON; ParseError naming the URL and what came instead."""
    where = f"{response.url.host}{response.url.path}"
    body = response.content
    if not body.strip():
        raise ParseError(
            f"expected JSON from {where}, got an empty body (HTTP {response.status_code})"
        )
    try:
        return json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        seen = f"{ctype or 'no content type'} (starts {_start(body)!r})"
        if "json" in ctype:  # the server meant JSON: say why it does not parse
            seen += f" that does not parse: {exc}"
        raise ParseError(f"expected JSON from {where}, got {seen}") from None


def _retry_after_seconds(response: httpx.Response, now: float) -> float | None:
    """Retry-After as seconds to wait: either a number or an HTTP-date (RFC 9110 10.2.3)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = _as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
    # Measure against the server's own Date header when it sends one: immune to our clock skew.
    reference = datetime.fromtimestamp(now, UTC)
    if server_date := response.headers.get("date"):
        with contextlib.suppress(TypeError, ValueError):
            reference = _as_utc(parsedate_to_datetime(server_date))
    return max(0.0, (when - reference).total_seconds())


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_unreachable(error: str | None) -> bool:
    """True for a poll error that says the host could not be reached (DNS, refused, no route)."""
    return bool(error and _UNREACHABLE.match(error))


def _connect_reason(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in words: the OS error under httpx's wrappers."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "name or service" in text or "name resolution" in text or "nodename" in text:
        return "DNS lookup failed"
    if "refused" in text:
        return "connection refused"
    if "network is unreachable" in text or "no route to host" in text:
        return "network unreachable"
    return f"cannot connect ({_describe(exc)})"


def _describe(exc: Exception) -> str:
    detail = scrub_url_secrets(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _start(body: bytes) -> str:
    return " ".join(body[:60].decode("utf-8", errors="replace").split())[:40]


def _error_detail(response: httpx.Response) -> str:
    # Plain-text and JSON error bodies say what was wrong (CT.gov 400s are text/plain,
    # docs/sources.md#clinicaltrialsgov); HTML error pages are noise.
    ctype = response.headers.get("content-type", "")
    if not (ctype.startswith("text/plain") or "json" in ctype):
        return ""
    text = " ".join(response.content[:1000].decode("utf-8", errors="replace").split())
    if not text:
        return ""
    if len(text) > _SNIPPET_LEN:
        text = text[:_SNIPPET_LEN] + "…"
    return f": {scrub_url_secrets(text)}"
