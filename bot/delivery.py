"""Drain the alert outbox to Slack (slack-sdk WebClient) or to the console."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.render import alert_console_text, alert_fallback_text, slack_alert_blocks
from state.store import Store
from state.types import Alert

__all__ = [
    "PERMANENT_SLACK_ERRORS",
    "ConsoleDelivery",
    "Deliverer",
    "DeliveryReport",
    "SlackDelivery",
    "build_slack_client",
]

log = logging.getLogger(__name__)

# Errors that no retry can fix: the delivery is marked failed and shown in `status`.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
    }
)


@dataclass
class DeliveryReport:
    """What one outbox flush did."""

    destination: str
    sent: int = 0
    failed: int = 0
    still_pending: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer(Protocol):
    destination: str

    def flush(self) -> DeliveryReport: ...


def build_slack_client(token: str, base_url: str, *, timeout: int = 30) -> WebClient:
    """A WebClient that retries connection errors, 5xx, and 429 after its Retry-After."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


class SlackDelivery:
    """Posts pending alerts with chat.postMessage; each is marked sent once Slack says ok."""

    destination = "slack"

    def __init__(self, client: WebClient, store: Store, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.store = store
        self.clock = clock

    def flush(self) -> DeliveryReport:
        """Deliver every pending alert; stop early when Slack is down or rate-limiting us."""
        report = DeliveryReport(self.destination)
        pending = self.store.pending(self.destination)
        for index, alert in enumerate(pending):
            assert alert.delivery_id is not None
            outcome = self._post(alert)
            if outcome is None:
                report.sent += 1
                continue
            error, permanent = outcome
            self.store.mark_attempt_failed(
                alert.delivery_id, at=self.clock(), error=error, permanent=permanent
            )
            report.errors.append(f"alert {alert.id}: {error}")
            log.warning("slack delivery of alert %s failed: %s", alert.id, error)
            if permanent:
                report.failed += 1
                continue
            # Slack is down or throttling: the rest stays pending for the next run.
            report.still_pending = len(pending) - index
            break
        return report

    def _post(self, alert: Alert) -> tuple[str, bool] | None:
        """Post one alert; None on success, else (error in plain words, permanent?)."""
        assert alert.delivery_id is not None
        if not alert.channel:
            return "no Slack channel configured for this topic or in [slack].channel", True
        try:
            response = self.client.chat_postMessage(
                channel=alert.channel,
                text=alert_fallback_text(alert),
                blocks=slack_alert_blocks(alert),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if exc.response.status_code == 429:
                retry_after = exc.response.headers.get("retry-after", "?")
                return f"rate limited by Slack (retry after {retry_after}s)", False
            return f"Slack said {code}", code in PERMANENT_SLACK_ERRORS
        except (SlackClientError, OSError) as exc:
            return f"could not reach Slack ({type(exc).__name__}: {exc})", False
        self.store.mark_sent(alert.delivery_id, at=self.clock(), ref=str(response.get("ts", "")))
        return None


class ConsoleDelivery:
    """Prints pending alerts readably when Slack is not configured."""

    destination = "console"

    def __init__(
        self, store: Store, clock: Callable[[], datetime], write: Callable[[str], None]
    ) -> None:
        self.store = store
        self.clock = clock
        self.write = write

    def flush(self) -> DeliveryReport:
        """Print and mark every pending console alert."""
        report = DeliveryReport(self.destination)
        for alert in self.store.pending(self.destination):
            assert alert.delivery_id is not None
            self.write(alert_console_text(alert) + "\n")
            self.store.mark_sent(alert.delivery_id, at=self.clock())
            report.sent += 1
        return report
