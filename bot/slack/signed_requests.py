"""Slack's signed requests (slash commands, button clicks): the exact body, its signature
checked with the replay window, and a refusal logged with its reason, never the secret."""

from __future__ import annotations

import logging

from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

__all__ = ["MAX_BODY", "refused", "signed_body"]

# A slash command or a click payload is a few KB at most; refuse to buffer anything much bigger.
MAX_BODY = 64 * 1024


def refused(
    request: Request, status: int, reason: str, *, what: str, log: logging.Logger
) -> Response:
    """A plain-text refusal, logged on `log` as "<what> rejected" with who asked and why."""
    # Never the signature, the secret or the body.
    client = request.client.host if request.client else "?"
    log.warning("%s rejected status=%d client=%s reason=%s", what, status, client, reason)
    return PlainTextResponse(f"{reason}\n", status_code=status)


async def signed_body(
    request: Request, verifier: SignatureVerifier, *, what: str, log: logging.Logger
) -> bytes | Response:
    """The raw body when its Slack signature is valid and fresh; else the refusal to send."""
    body = await _read_body(request)
    if body is None:
        return refused(request, 413, "request body too large", what=what, log=log)
    if not _verified(verifier, body, request):
        return refused(request, 401, "invalid or stale Slack signature", what=what, log=log)
    return body


async def _read_body(request: Request) -> bytes | None:
    """The raw body (the signature covers exact bytes), or None when it exceeds MAX_BODY."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _verified(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except (ValueError, OverflowError):  # a timestamp that is not a number, or 400 digits long
        return False
