"""Slack as a destination: Block Kit posts with chat.postMessage, threads, and the history check.

The outbox loop (bot/destinations/flush.py) leases each row before `post` is called, so a crash
leaves it "maybe posted"; such a row is looked up in the channel's history (history.py) before
it is posted again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.destinations.outlet import Failed, Held, Outcome, Posted, Refused, Rerouted, RetryLater
from bot.destinations.render import (
    alert_fallback_text,
    mrkdwn_escape,
    mrkdwn_link,
    slack_alert_blocks,
)
from bot.slack.delivery.client import (
    REROUTABLE_SLACK_ERRORS,
    SLACK_FAILURES,
    WORKSPACE_SLACK_ERRORS,
    PostFailure,
    classify_failure,
)
from bot.slack.delivery.history import HistoryUnavailable, alert_metadata, look_for_post
from bot.slack.delivery.limits import fit_blocks
from bot.slack.triage.buttons import triage_blocks
from bot.slack.triage.gate import SlackTriage
from state.outbox import DeliveryLease, Outbox
from state.types import Alert

__all__ = ["HISTORY_MARGIN", "SlackDestination", "render_message"]

log = logging.getLogger(__name__)

# Slack's ts and our clock may disagree a little; look a bit further back than the attempt.
HISTORY_MARGIN = timedelta(minutes=2)


def render_message(
    alert: Alert, footer: Sequence[dict[str, Any]] = ()
) -> tuple[list[dict[str, Any]], str]:
    """An alert's message (blocks within Slack's limits, fallback text); `footer` is kept."""
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
    return fit_blocks(blocks, tail=more, footer=footer), text


@dataclass(frozen=True)
class _Target:
    channel: str
    thread_ts: str | None = None


class SlackDestination:
    """Posts alerts with chat.postMessage; a follow-up goes in its parent's thread."""

    name = "slack"

    def __init__(
        self,
        client: WebClient,
        outbox: Outbox,
        *,
        default_channel: str | None = None,
        triage: SlackTriage | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.default_channel = default_channel
        self.triage = triage  # snooze, mute and the buttons (bot/slack/triage/); None: plain alerts

    def ready(self, alert: Alert) -> bool:
        """False for a follow-up whose parent has no message yet: it waits for it."""
        return self._target(alert) is not None

    def post(self, lease: DeliveryLease) -> Outcome:
        """Post one alert, unless an earlier unanswered attempt is found in the channel."""
        alert = lease.alert
        target = self._target(alert) or _Target(alert.channel or "")
        if not target.channel:
            return Failed("no Slack channel configured for this topic or in [slack].channel")
        verified = True
        if lease.unverified_since is not None:  # before triage: a message out is out
            found = self._earlier_post(lease, target)
            if isinstance(found, tuple):
                ts, channel_id = found
                log.info("alert %s was already posted (ts %s): not posting it again", alert.id, ts)
                return Posted(ref=ts, channel_id=channel_id, found_earlier=True)
            verified = found
        footer: list[dict[str, Any]] = []
        if self.triage is not None:
            gated = self.triage.gate(alert)
            if isinstance(gated, Held):
                log.info("alert %s not posted to Slack: %s", alert.id, gated.reason)
                return gated
            alert = gated
            footer = triage_blocks(alert, self.triage.state(alert))
        blocks, text = render_message(alert, footer)
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
            return self._failure(alert, target, classify_failure(exc), verified)
        # Slack's id for the row's own channel (not a parent's thread elsewhere), for later checks.
        posted_in = response.get("channel") if target.channel == alert.channel else None
        return Posted(
            ref=str(response.get("ts") or ""), channel_id=str(posted_in) if posted_in else None
        )

    def _target(self, alert: Alert) -> _Target | None:
        """Where to post: the parent alert's thread for a follow-up, else the channel."""
        channel, parent = alert.channel or "", alert.change.thread_of
        if parent is None or alert.meant_for is not None:
            return _Target(channel)
        found = self.outbox.thread_parent(parent, self.name)
        if found.waiting:
            return None
        if found.ts and found.channel:
            return _Target(found.channel, found.ts)
        return _Target(channel)  # the parent never reached Slack: post on its own

    def _earlier_post(self, lease: DeliveryLease, target: _Target) -> tuple[str, str] | bool:
        """(ts, channel id) of an earlier attempt's message; else whether the check was made."""
        alert, since = lease.alert, lease.unverified_since
        assert since is not None
        try:
            return (
                look_for_post(
                    self.client,
                    channel=target.channel,
                    known_id=self.outbox.channel_id(target.channel),
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

    def _failure(
        self, alert: Alert, target: _Target, failure: PostFailure, verified: bool
    ) -> Outcome:
        """What a failed post means for its delivery: re-route, retry later, count or fail."""
        default = self.default_channel
        if (
            failure.code in REROUTABLE_SLACK_ERRORS
            and default
            and alert.meant_for is None
            and target.channel != default
        ):
            log.warning("alert %s re-routed from %s to %s", alert.id, target.channel, default)
            return Rerouted(failure.error, to_channel=default)
        reason = failure.error
        if alert.meant_for and alert.last_error:  # keep why it was re-routed in the first place
            reason = alert.last_error
            if failure.permanent or failure.refused:
                reason += f"; then {failure.error} in {target.channel}"
        if failure.permanent:
            return Failed(reason)
        if failure.refused:
            return Refused(reason)
        if failure.code in WORKSPACE_SLACK_ERRORS:
            log.error("Slack refuses trialwatch's token (%s): delivery paused", failure.code)
        return RetryLater(reason, maybe_posted=failure.maybe_posted or not verified)
