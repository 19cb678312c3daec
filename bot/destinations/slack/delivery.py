"""Drain the alert outbox to Slack (slack-sdk WebClient); the console one is bot/console.py.

Each delivery is taken with a lease (committed) before it is posted, so two processes never
post the same row and a crash leaves it "maybe posted"; such a row is looked up in the
channel's history (bot/slack_history.py) before it is posted again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.destinations.console import ConsoleDelivery
from bot.destinations.outlet import Deliverer, DeliveryReport
from bot.destinations.render import (
    alert_fallback_text,
    mrkdwn_escape,
    mrkdwn_link,
    slack_alert_blocks,
)
from bot.destinations.slack.client import (
    PERMANENT_SLACK_ERRORS,
    REROUTABLE_SLACK_ERRORS,
    SLACK_FAILURES,
    PostFailure,
    build_slack_client,
    classify_failure,
)
from bot.destinations.slack.history import HistoryUnavailable, alert_metadata, look_for_post
from bot.destinations.slack.limits import fit_blocks
from state.outbox import DEFAULT_DELIVERY_LEASE, DeliveryLease, Outbox
from state.store import Store

__all__ = [
    "PERMANENT_SLACK_ERRORS",
    "ConsoleDelivery",
    "Deliverer",
    "DeliveryReport",
    "SlackDelivery",
    "build_slack_client",
]

log = logging.getLogger(__name__)

# The token or the app is wrong: every other post would fail the same way.
_WORKSPACE_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope"}
)
# Slack's ts and our clock may disagree a little; look a bit further back than the attempt.
HISTORY_MARGIN = timedelta(minutes=2)
# At most this many deliveries per flush: a long outage drains over a few flushes.
FLUSH_BATCH = 200


@dataclass(frozen=True)
class _Target:
    channel: str
    thread_ts: str | None = None


class SlackDelivery:
    """Posts due alerts with chat.postMessage; each is marked sent once Slack says ok."""

    destination = "slack"

    def __init__(
        self,
        client: WebClient,
        store: Store,
        clock: Callable[[], datetime],
        *,
        default_channel: str | None = None,
        lease: timedelta = DEFAULT_DELIVERY_LEASE,
    ) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self.default_channel = default_channel
        self.lease = lease

    def flush(self) -> DeliveryReport:
        """Deliver every due alert; stop early when Slack is down or rate-limiting us."""
        report = DeliveryReport(self.destination)
        outbox = self.store.outbox
        seen: set[int] = set()
        for _ in range(FLUSH_BATCH):
            alert = outbox.next_due(self.destination, at=self.clock(), skip=seen)
            if alert is None or alert.delivery_id is None:
                break
            seen.add(alert.delivery_id)
            target = self._target(outbox, alert.change.thread_of, alert.channel, alert.meant_for)
            if target is None:
                continue  # a follow-up whose parent has no message yet: stays pending
            lease = outbox.take(alert.delivery_id, at=self.clock(), ttl=self.lease)
            if lease is None:
                continue  # another deliverer has just taken it
            rerouted = report.rerouted
            if not self._deliver(outbox, lease, target, report):
                break  # Slack is down or throttling: do not hammer it
            if report.rerouted > rerouted:
                seen.discard(alert.delivery_id)  # due again, for the default channel
        report.still_pending = outbox.count_pending(self.destination)
        return report

    def _target(
        self, outbox: Outbox, parent: int | None, channel: str | None, meant_for: str | None
    ) -> _Target | None:
        """Where to post: the parent alert's thread for a follow-up, else the channel."""
        if parent is None or meant_for is not None:
            return _Target(channel or "")
        found = outbox.thread_parent(parent, self.destination)
        if found.waiting:
            return None
        if found.ts and found.channel:
            return _Target(found.channel, found.ts)
        return _Target(channel or "")  # the parent never reached Slack: post on its own

    def _deliver(
        self, outbox: Outbox, lease: DeliveryLease, target: _Target, report: DeliveryReport
    ) -> bool:
        """Post one alert; False when the flush should stop."""
        alert = lease.alert
        assert alert.delivery_id is not None
        if not target.channel:
            failure = PostFailure(
                "no Slack channel configured for this topic or in [slack].channel", permanent=True
            )
            return self._failed(outbox, lease, target, failure, report, verified=True)
        verified = True
        if lease.unverified_since is not None:
            found = self._earlier_post(outbox, lease, target)
            if isinstance(found, tuple):
                ts, channel_id = found
                outbox.mark_sent(
                    alert.delivery_id,
                    at=self.clock(),
                    ref=ts,
                    channel_id=channel_id,
                    token=lease.token,
                )
                log.info("alert %s was already posted (ts %s): not posting it again", alert.id, ts)
                report.sent += 1
                report.found_posted += 1
                return True
            verified = found
        blocks, text = self._render(lease)
        try:
            response = self.client.chat_postMessage(
                channel=target.channel,
                text=text,
                blocks=blocks,
                thread_ts=target.thread_ts,
                metadata=alert_metadata(alert.id, alert.delivery_id),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SLACK_FAILURES as exc:
            return self._failed(outbox, lease, target, classify_failure(exc), report, verified)
        # Slack's id for the row's own channel (not a parent's thread elsewhere), for later checks.
        posted_in = response.get("channel") if target.channel == alert.channel else None
        if not outbox.mark_sent(
            alert.delivery_id,
            at=self.clock(),
            ref=str(response.get("ts") or ""),
            channel_id=str(posted_in) if posted_in else None,
            token=lease.token,
        ):
            log.warning("alert %s: posted, but its lease had been taken over", alert.id)
        report.sent += 1
        return True

    def _earlier_post(
        self, outbox: Outbox, lease: DeliveryLease, target: _Target
    ) -> tuple[str, str] | bool:
        """(ts, channel id) of an earlier attempt's message; else whether the check was made."""
        alert, since = lease.alert, lease.unverified_since
        assert since is not None
        try:
            return (
                look_for_post(
                    self.client,
                    channel=target.channel,
                    known_id=outbox.channel_id(target.channel),
                    alert_id=alert.id,
                    since=since - HISTORY_MARGIN,
                    thread_ts=target.thread_ts,
                )
                or True
            )
        except HistoryUnavailable as exc:
            log.warning(
                "alert %s: an earlier attempt to post it got no answer and the history of %s "
                "could not be checked (%s); posting it again, so it may appear twice",
                alert.id,
                target.channel,
                exc,
            )
            return False

    def _render(self, lease: DeliveryLease) -> tuple[list[dict[str, Any]], str]:
        alert = lease.alert
        blocks, text = slack_alert_blocks(alert), alert_fallback_text(alert)
        if alert.meant_for:
            note = f"↪ Meant for {alert.meant_for}: posted here because Slack refused it there."
            blocks = [
                {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn_escape(note)}]},
                *blocks,
            ]
            text = mrkdwn_escape(f"(meant for {alert.meant_for}) ") + text
        url = alert.change.url
        more = f"… more at {mrkdwn_link(url, 'the record')}" if url and len(url) < 500 else "…"
        return fit_blocks(blocks, tail=more), text

    def _failed(
        self,
        outbox: Outbox,
        lease: DeliveryLease,
        target: _Target,
        failure: PostFailure,
        report: DeliveryReport,
        verified: bool,
    ) -> bool:
        """Record a failed post; re-route it where that helps. False: stop the flush."""
        alert = lease.alert
        assert alert.delivery_id is not None
        now = self.clock()
        report.errors.append(f"alert {alert.id}: {failure.error}")
        log.warning(
            "slack delivery of alert %s to %s failed: %s", alert.id, target.channel, failure.error
        )
        default = self.default_channel
        if (
            failure.code in REROUTABLE_SLACK_ERRORS
            and default
            and alert.meant_for is None
            and target.channel != default
        ):
            outbox.reroute(
                alert.delivery_id,
                at=now,
                error=failure.error,
                to_channel=default,
                token=lease.token,
            )
            log.warning("alert %s re-routed from %s to %s", alert.id, target.channel, default)
            report.rerouted += 1
            return True
        stored = failure.error
        if alert.meant_for and alert.last_error:  # keep why it was re-routed in the first place
            stored = alert.last_error
            if failure.permanent:
                stored += f"; then {failure.error} in {target.channel}"
        outbox.mark_attempt_failed(
            alert.delivery_id,
            at=now,
            error=stored,
            permanent=failure.permanent,
            token=lease.token,
            maybe_posted=failure.maybe_posted or not verified,
        )
        if not failure.permanent:
            return False
        report.failed += 1
        if failure.code in _WORKSPACE_ERRORS:
            log.error("Slack refuses trialwatch's token (%s): delivery paused", failure.code)
            return False
        return True
