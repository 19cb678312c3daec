"""The one gate for URLs that apps subscribe to (iCalendar and Atom feeds): a token in the URL.

Calendar apps and feed readers cannot send an Authorization header, so off loopback such a URL
carries `?token=<TRIALWATCH_FEED_TOKEN>`, compared in constant time. On loopback none is needed.
The token is never logged: the server's access log is off, and a refusal logs only the path.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.service.bearer_gate import is_loopback

__all__ = ["FEED_TOKEN_ENV", "UrlTokenGate"]

FEED_TOKEN_ENV = "TRIALWATCH_FEED_TOKEN"  # noqa: S105 (a variable name, not a secret)

log = logging.getLogger(__name__)


class UrlTokenGate:
    """Refuses a subscribed URL off loopback unless its `token` query parameter is right."""

    def __init__(self, *, host: str, token: str | None) -> None:
        self._needs_token = not is_loopback(host)
        self._token = token or None

    @property
    def needs_token(self) -> bool:
        """Whether subscribed URLs must carry `?token=`."""
        return self._needs_token

    def refused(self, request: Request) -> Response | None:
        """None when the request may be answered, else the refusal to send."""
        if not self._needs_token:
            return None
        if self._token is None:
            return PlainTextResponse(
                f"feeds are served off loopback only with a token: set {FEED_TOKEN_ENV}\n",
                status_code=503,
            )
        given = request.query_params.get("token", "")
        if hmac.compare_digest(given.encode(), self._token.encode()):
            return None
        log.warning("feed request refused status=403 path=%s", request.url.path)
        return PlainTextResponse("forbidden: wrong or missing token\n", status_code=403)
