"""A click, end to end: check it is on a message this bot posted, record it, update the message.

Shared by POST /slack/actions and Socket Mode. `record` is quick (one read, one insert) and is
answered to Slack; `update` (chat.update) runs after the answer, so a slow Slack API never
makes the click time out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.slack.delivery.client import SLACK_FAILURES, classify_failure
from bot.slack.delivery.destination import render_message
from bot.slack.triage.buttons import mutable_fields, snoozable, triage_blocks
from bot.slack.triage.clicks import BadClick, Click
from bot.slack.triage.gate import SlackTriage
from state.triage import PostedAlert, Triage
from state.triage_types import TriageAction, TriageKind

__all__ = ["ClickHandler", "Recorded"]

log = logging.getLogger(__name__)

_RECORD_ACTIONS = (TriageKind.SNOOZE, TriageKind.UNSNOOZE, TriageKind.MUTE, TriageKind.UNMUTE)
# A click Slack already has its 200 for is retried this long (a database write-locked by a
# long poll commit, a restarting PostgreSQL) before it is logged as lost.
RETRY_FOR, _RETRY_FIRST, _RETRY_MOST = 600.0, 1.0, 30.0


@dataclass(frozen=True)
class Recorded:
    """A click on one of our messages; `new` is False for a repeat (nothing stored)."""

    click: Click
    posted: PostedAlert
    new: bool


class ClickHandler:
    """Turns accepted clicks into ledger rows and message updates."""

    def __init__(
        self,
        triage: Triage,
        slack: SlackTriage,
        client: WebClient | None,
        clock: Callable[[], datetime],
        *,
        retry_for: float = RETRY_FOR,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.triage = triage
        self.slack = slack
        self.client = client
        self.clock = clock
        self._retry_for, self._sleep, self._monotonic = retry_for, sleep, monotonic

    def record(self, click: Click) -> Recorded:
        """Store the click's action once, retrying while the database cannot take it; BadClick
        when it is not on an alert this bot posted. A click still not stored is logged lost."""
        give_up, delay = self._monotonic() + self._retry_for, _RETRY_FIRST
        while True:
            try:
                return self._record_once(click)
            except OperationalError as exc:  # locked, gone, restarting: worth another try
                if self._monotonic() + delay > give_up:
                    log.error(
                        "slack click LOST (not stored): id=%s:%s action=%s alert=%s (%s)",
                        click.user_id,
                        click.action_ts,
                        click.kind.value,
                        click.alert_id,
                        str(exc.orig or exc).splitlines()[0],
                    )
                    raise
                log.warning(
                    "slack click id=%s:%s not stored yet (%s); retrying in %.0fs",
                    click.user_id,
                    click.action_ts,
                    str(exc.orig or exc).splitlines()[0],
                    delay,
                )
                self._sleep(delay)
                delay = min(delay * 2, _RETRY_MOST)

    def _record_once(self, click: Click) -> Recorded:
        posted = self.triage.posted(click.alert_id)
        if (
            posted is None
            or posted.ts != click.message_ts
            or click.channel_id not in posted.channels
        ):
            raise BadClick(f"alert {click.alert_id} was not posted by this bot in that message")
        alert, change = posted.alert, posted.alert.change
        if click.kind in _RECORD_ACTIONS and not snoozable(alert):
            raise BadClick(f"alert {alert.id} is not about a record")
        if click.field is not None and click.field not in dict(mutable_fields(alert)):
            raise BadClick(f"alert {alert.id} has no field {click.field!r} to mute")
        at = self.clock()
        action = TriageAction(
            at=at,
            user_id=click.user_id,
            user_name=click.user_name,
            kind=click.kind,
            alert_id=alert.id,
            topic=change.topic,
            source=change.source,
            record_key=change.key,
            field=click.field,
            until=at + click.snooze if click.snooze else None,
            click=f"{click.user_id}:{click.action_ts}",
            repeat_of=click.looks,
        )
        new = self.triage.record(action)
        log.info(
            "slack action=%s alert=%s user=%s %s",
            click.kind.value,
            alert.id,
            click.user_id,
            "recorded" if new else "repeat: nothing to do",
        )
        return Recorded(click, posted, new)

    def update(self, recorded: Recorded) -> bool:
        """chat.update the clicked message to show who did what; True if Slack took it."""
        if not recorded.new or self.client is None:
            return False
        posted = recorded.posted
        shown = self.slack.view(posted.alert, posted.delivered_at)
        footer = triage_blocks(posted.alert, self.slack.state(posted.alert, mentions=True))
        blocks, text = render_message(shown, footer)
        try:
            self.client.chat_update(
                channel=recorded.click.channel_id, ts=posted.ts, blocks=blocks, text=text
            )
        except SLACK_FAILURES as exc:
            log.warning(
                "alert %s: the click is recorded but its message was not updated (%s)",
                posted.alert.id,
                classify_failure(exc).error,
            )
            return False
        return True
