"""The Slack WebClient as trialwatch uses it: which failures it retries, and what each one means.

Retries inside the client are limited to those that cannot post a message twice: a connection
that never got the request out, a 429 (Slack did nothing; wait its Retry-After once) and a
500/503 (backoff). A request that went out and got no answer (a timeout, a dropped connection)
is NOT retried blindly: its delivery is left "maybe posted" and checked against channel
history before the next attempt.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from watchers.net.responses import retry_after_seconds

__all__ = [
    "PERMANENT_SLACK_ERRORS",
    "REROUTABLE_SLACK_ERRORS",
    "SLACK_FAILURES",
    "WORKSPACE_SLACK_ERRORS",
    "PostFailure",
    "build_slack_client",
    "classify_failure",
]

Sleep = Callable[[float], None]

# What a failed Slack call can raise: Slack's answers, and the transport's failures.
SLACK_FAILURES = (SlackClientError, OSError, http.client.HTTPException)

# Errors about this message or its channel that no retry can fix: the delivery is marked failed
# and shown in `status`. Any code not listed here or below is counted as a refusal (it may be
# a passing state of the channel): after a few the delivery fails with it.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "restricted_action",
    }
)
# The token or the app is wrong: every post would fail the same way until someone fixes it, so
# delivery pauses (pending, retried each flush) instead of failing alerts that are fine.
WORKSPACE_SLACK_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope"}
)
# The channel is the problem, not the message or the token: the default channel may work.
REROUTABLE_SLACK_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})

# Longest Retry-After honoured inside one post; longer, and the flush stops and tries later.
MAX_RATE_LIMIT_WAIT = 60.0


def _retry_after(response: HttpResponse | None) -> float | None:
    """Seconds a 429 asks us to wait (the sources' Retry-After rule); 1 s when it says nothing."""
    if response is None or response.status_code != 429:
        return None
    # slack-sdk may list a header under two spellings: one value per name, case-folded.
    headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
    wait = retry_after_seconds(httpx.Response(429, headers=headers), time.time())
    return 1.0 if wait is None else wait


class _RateLimitRetry(RetryHandler):
    """On 429, wait exactly Retry-After (within reason) and try once more."""

    def __init__(self, sleep: Sleep, max_wait: float) -> None:
        super().__init__(max_retry_count=1)
        self.sleep, self.max_wait = sleep, max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        wait = _retry_after(response)
        return wait is not None and wait <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(_retry_after(response) or 1.0)
        state.increment_current_attempt()


class _BackoffRetry(RetryHandler):
    """5xx answers (500, 503) and requests that never left: retry with exponential backoff."""

    def __init__(self, sleep: Sleep, max_retry_count: int, backoff: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep, self.backoff = sleep, backoff

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            return response.status_code in (500, 503)
        # urllib wraps only failures before the request was sent in a bare URLError.
        return isinstance(error, URLError)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self.backoff * 2**state.current_attempt)
        state.increment_current_attempt()


def build_slack_client(
    token: str,
    base_url: str,
    *,
    timeout: int = 30,
    retries: int = 2,
    backoff: float = 0.5,
    sleep: Sleep = time.sleep,
    max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
) -> WebClient:
    """A WebClient that retries only what cannot double-post; `sleep` is injectable for tests."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            _BackoffRetry(sleep, retries, backoff),
            _RateLimitRetry(sleep, max_rate_limit_wait),
        ],
    )


@dataclass(frozen=True)
class PostFailure:
    """Why a Slack call failed, and what that means for the delivery."""

    error: str  # plain words, shown in `status` and the log
    code: str | None = None  # Slack's error code, when Slack answered
    permanent: bool = False  # no retry can fix it
    maybe_posted: bool = False  # the request went out and no answer came back
    refused: bool = False  # Slack refused it with a code we do not know: count, then fail


def classify_failure(exc: BaseException) -> PostFailure:
    """What a failed Slack call means: permanent, worth retrying later, or of unknown outcome."""
    if isinstance(exc, SlackApiError):
        response: Any = exc.response
        status = int(response.status_code)
        if status == 429:
            wait = response.headers.get("retry-after", "?")
            return PostFailure(f"rate limited by Slack (retry after {wait}s)", code="ratelimited")
        code = str(response.get("error") or "") or None
        if status >= 500:
            return PostFailure(f"Slack answered HTTP {status}", code=code)
        if code in PERMANENT_SLACK_ERRORS:
            return PostFailure(f"Slack said {code}", code=code, permanent=True)
        if code in WORKSPACE_SLACK_ERRORS:
            return PostFailure(f"Slack said {code}", code=code)  # paused, retried later
        return PostFailure(f"Slack said {code or f'HTTP {status}'}", code=code, refused=True)
    if isinstance(exc, URLError):
        return PostFailure(f"could not reach Slack ({exc.reason})")
    # Sent, then the connection dropped or timed out (OSError, HTTPException): Slack may have
    # posted it.
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return PostFailure(f"no answer from Slack ({detail})", maybe_posted=True)
