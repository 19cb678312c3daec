"""What an HTTP answer or failure says: a JSON body, Retry-After, why a connection failed."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from watchers.model import FetchError, ParseError
from watchers.text.redact import scrub_url_secrets

__all__ = [
    "connect_reason",
    "decode_json",
    "describe",
    "error_detail",
    "is_unreachable",
    "local_exhaustion",
    "refuse_unasked_304",
    "retry_after_seconds",
]

_SNIPPET_LEN = 200
_UNREACHABLE = re.compile(
    r"^\S+ did not answer: (?:DNS lookup failed|connection refused|network unreachable|"
    r"cannot connect)"
)


def refuse_unasked_304(response: httpx.Response, sent: Mapping[str, str]) -> None:
    """FetchError for a 304 to a request that sent no validator."""
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
        seen = ctype or "no content type"
        if _asked_host_answered(response):
            seen += f" (starts {_start(body)!r})"
        if "json" in ctype:  # the server meant JSON: say why it does not parse
            seen += f" that does not parse: {exc}"
        raise ParseError(f"expected JSON from {where}, got {seen}") from None


def retry_after_seconds(response: httpx.Response, now: float) -> float | None:
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


# Our own machine out of something (file descriptors, memory, buffers): the source is not at
# fault, and telling it down would raise a false alarm.
_LOCAL_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS)


def local_exhaustion(exc: BaseException) -> str | None:
    """What of ours ran out when this failure happened (fds, memory, threads), or None.

    The OS error under httpx's and our wrappers; else Python's own wording of it, for an error
    whose cause was cut off on the way (a redacted error is re-raised `from None`). A server's
    words ("Cannot allocate memory" in a 503 body) are the source's trouble, not ours.
    """
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, MemoryError):
            return "out of memory"
        if isinstance(cause, OSError) and cause.errno in _LOCAL_ERRNOS:
            return os.strerror(cause.errno).lower()
        if isinstance(cause, RuntimeError) and "can't start new thread" in str(cause):
            return "cannot start another thread"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    for code in _LOCAL_ERRNOS:
        if f"[Errno {code}]" in text:
            return os.strerror(code).lower()
    return "cannot start another thread" if "can't start new thread" in text else None


def connect_reason(exc: httpx.ConnectError) -> str:
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
    return f"cannot connect ({describe(exc)})"


def describe(exc: Exception) -> str:
    """An exception as "Type: message", with any secret in a URL scrubbed."""
    detail = scrub_url_secrets(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _asked_host_answered(response: httpx.Response) -> bool:
    """True unless redirects led the answer to another host than the one asked."""
    # Http never follows a redirect off the host, but a body from elsewhere (an internal
    # service, say) must never be quoted into a poll's health text, whoever fetched it.
    asked = response.history[0].request if response.history else response.request
    return asked.url.host == response.url.host


def _start(body: bytes) -> str:
    return " ".join(body[:60].decode("utf-8", errors="replace").split())[:40]


def error_detail(response: httpx.Response) -> str:
    """ ": <what the server said>" for a plain-text or JSON error body, else ""."""
    # Plain-text and JSON error bodies say what was wrong (CT.gov 400s are text/plain,
    # docs/sources.md#clinicaltrialsgov); HTML error pages are noise.
    ctype = response.headers.get("content-type", "")
    if not (ctype.startswith("text/plain") or "json" in ctype):
        return ""
    if not _asked_host_answered(response):
        return ""
    text = " ".join(response.content[:1000].decode("utf-8", errors="replace").split())
    if not text:
        return ""
    if len(text) > _SNIPPET_LEN:
        text = text[:_SNIPPET_LEN] + "…"
    return f": {scrub_url_secrets(text)}"
