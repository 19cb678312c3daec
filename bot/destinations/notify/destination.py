"""A [[notify]] entry as a destination: one Apprise URL, its topics and minimum severity.

The URL may hold a webhook token, so it lives only in memory: delivery rows, logs, errors and
status name the entry (`name`), and what Apprise reports is passed through the redactor.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import apprise

from bot.destinations.cut import truncate
from bot.destinations.notify.neutralise import neutralise, neutralise_link
from bot.destinations.outlet import Outcome, Posted, Refused, RetryLater
from bot.destinations.render import alert_body_lines, alert_headline
from bot.links import web_link
from state.outbox import DeliveryLease
from state.types import Alert, ChangeKind, Severity

__all__ = ["MAX_BODY", "AppriseDestination"]

log = logging.getLogger(__name__)

# Apprise splits or cuts per service ("overflow=upstream"); this only bounds a runaway body.
MAX_BODY = 4000
# Apprise's failure lines end in "error=<HTTP status>." for HTTP-based services.
_HTTP_STATUS = re.compile(r"error=(\d{3})\b")


class AppriseDestination:
    """Posts alerts as a title and a plain-text body to one Apprise URL."""

    def __init__(
        self,
        name: str,
        url: str | None,
        *,
        redact: Callable[[str], str],
        missing: str = "no URL configured",
    ) -> None:
        self.name = name
        self._redact = redact
        self._missing = missing
        self._scheme = urlsplit(url).scheme if url else ""
        self._apprise = apprise.Apprise()
        self._usable = url is not None and self._apprise.add(url)
        if url and not self._usable:
            self._missing = f"Apprise does not accept its URL (scheme {self._scheme!r})"
        if not self._usable:
            log.warning("[[notify]] %s: %s; its alerts wait until it is fixed", name, self._missing)
        # Apprise and requests log URLs at debug level: keep them at warnings.
        for noisy in ("apprise", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    def ready(self, alert: Alert) -> bool:
        """Always: follow-ups are posted on their own (no threads here)."""
        return True

    def post(self, lease: DeliveryLease) -> Outcome:
        """Send one alert; a refusal with an HTTP 4xx counts, anything else is retried later."""
        if not self._usable:
            return RetryLater(f"{self.name}: {self._missing}")
        title, body = self._render(lease.alert)
        # Apprise says why only in its log (LogCapture is untyped): capture this call's warnings.
        capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
        with capture as said:
            sent = self._apprise.notify(
                body=body,
                title=title,
                notify_type=_notify_type(lease.alert),
                body_format=apprise.NotifyFormat.TEXT,
            )
        if sent:
            return Posted()
        reason = self._reason(said.getvalue())
        status = _HTTP_STATUS.search(reason)
        if status and 400 <= int(status.group(1)) < 500 and status.group(1) not in ("408", "429"):
            return Refused(reason)
        return RetryLater(reason)

    def _render(self, alert: Alert) -> tuple[str, str]:
        change = alert.change
        lines = [change.title, *alert_body_lines(change)]
        clean = [neutralise(line, self._scheme) for line in lines]
        if link := web_link(change.url):
            clean.append(neutralise_link(link, self._scheme))
        title = neutralise(alert_headline(change), self._scheme)
        return truncate(title, 250), truncate("\n".join(clean), MAX_BODY)

    def _reason(self, said: str) -> str:
        """Apprise's own words for the failure, on one line, secrets removed."""
        words = " ".join(said.split()) or "Apprise could not deliver it"
        return truncate(self._redact(words), 500)


def _notify_type(alert: Alert) -> apprise.NotifyType:
    if alert.change.kind is ChangeKind.SOURCE_DOWN:
        return apprise.NotifyType.FAILURE
    if alert.change.severity is Severity.HIGH:
        return apprise.NotifyType.WARNING
    return apprise.NotifyType.INFO
