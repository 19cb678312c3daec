"""The subscribed-feed gate: no token on loopback; off loopback the right token, never logged."""

from __future__ import annotations

import logging

import pytest
from starlette.requests import Request

from bot.service.url_token import UrlTokenGate

SECRET = "s3cret-feed-token"


def request(query: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/calendar.ics",
            "query_string": query.encode(),
            "headers": [],
        }
    )


def test_loopback_needs_no_token() -> None:
    assert UrlTokenGate(host="127.0.0.1", token=None).refused(request()) is None


def test_off_loopback_without_a_configured_token_is_refused() -> None:
    answer = UrlTokenGate(host="0.0.0.0", token=None).refused(request())
    assert answer is not None and answer.status_code == 503
    assert b"TRIALWATCH_FEED_TOKEN" in answer.body


@pytest.mark.parametrize(("given", "refused"), [(SECRET, None), ("wrong", 403), ("", 403)])
def test_off_loopback_the_url_must_carry_the_token(
    given: str, refused: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = UrlTokenGate(host="0.0.0.0", token=SECRET).refused(request(f"token={given}"))
    assert (answer.status_code if answer else None) == refused
    assert SECRET not in caplog.text and (not given or given not in caplog.text)
