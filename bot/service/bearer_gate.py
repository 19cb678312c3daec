"""The one bearer-token rule of everything people and tools read over HTTP (the dashboard's
pages, the JSON API): open on loopback; off loopback `Authorization: Bearer <token>` with
TRIALWATCH_DASHBOARD_TOKEN, compared in constant time; without that variable, refused (503)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

__all__ = ["BearerGate", "is_loopback"]

log = logging.getLogger(__name__)

_UNCONFIGURED = (
    "The dashboard is served on a non-loopback address: set TRIALWATCH_DASHBOARD_TOKEN and "
    "send it as 'Authorization: Bearer <token>'.\n"
)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerGate:
    """Refuses a request off loopback unless it carries the right bearer token."""

    def __init__(self, *, host: str, token: str | None) -> None:
        self.needs_token = not is_loopback(host)
        self.token = token

    def refused(self, request: Request) -> Response | None:
        """None when the request may be answered, else the refusal to send."""
        if not self.needs_token:
            return None
        if not self.token:
            return PlainTextResponse(_UNCONFIGURED, status_code=503)
        given = request.headers.get("authorization", "")
        expected = f"Bearer {self.token}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        client = request.client.host if request.client else "?"
        log.warning("dashboard request refused status=401 client=%s", client)
        return PlainTextResponse(
            "missing or wrong bearer token\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
