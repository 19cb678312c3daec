"""Snooze and mute at delivery time: hold an alert, or post it without its muted fields.

Decided when the alert is due (a snooze clicked after the alert was stored still applies),
from the ledger (state/triage.py). A HIGH alert of a snoozed record still posts, saying so;
a change of muted fields only is held, whatever its severity (the person muted that field of
that trial on purpose); a change with other fields posts without the muted ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.destinations.outlet import Held
from bot.slack.triage.buttons import MessageState, mutable_fields, snoozable
from bot.terminal_text import shown_name
from state.triage import Triage
from state.types import Alert, DeliveryState, Severity

__all__ = ["SlackTriage"]


class SlackTriage:
    """Applies the ledger to Slack deliveries, and gives a message its triage state."""

    def __init__(self, triage: Triage, clock: Callable[[], datetime]) -> None:
        self.triage = triage
        self.clock = clock

    def gate(self, alert: Alert) -> Alert | Held:
        """The alert to post now (maybe without muted fields, with notes), or why it is held."""
        return self._apply(alert, self.clock(), hold=True)

    def view(self, alert: Alert, at: datetime) -> Alert:
        """The alert as it was posted at `at`: without the fields muted then, with its notes."""
        shown = self._apply(alert, at, hold=False)
        return shown if isinstance(shown, Alert) else alert

    def _apply(self, alert: Alert, at: datetime, *, hold: bool) -> Alert | Held:
        if not snoozable(alert):
            return alert
        change = alert.change
        muted = (
            self.triage.muted_fields(change.topic, change.source, change.key, at)
            if mutable_fields(alert)
            else {}
        )
        shown = tuple(fc for fc in change.field_changes if fc.field not in muted)
        hidden = [fc for fc in change.field_changes if fc.field in muted]
        labels = ", ".join(fc.label for fc in hidden)
        if hold and hidden and not shown:
            by = ", ".join(sorted({shown_name(muted[fc.field].user_name) for fc in hidden}))
            return Held(f"held by mute ({labels} muted by {by})", DeliveryState.MUTED)
        notes = list(alert.notes)
        snooze = self.triage.snoozed(change.topic, change.source, change.key, at)
        if snooze is not None:
            by = shown_name(snooze.user_name)
            if hold and change.severity is not Severity.HIGH:
                until = snooze.until.strftime("%Y-%m-%d %H:%M UTC")
                return Held(f"held by snooze (until {until}, by {by})", DeliveryState.SNOOZED)
            if change.severity is Severity.HIGH:
                notes.append(f"posted despite snooze by {by} (high severity)")
        if hidden:
            notes.append(f"muted for this trial, not shown: {labels}")
        return replace(alert, change=replace(change, field_changes=shown), notes=tuple(notes))

    def state(self, alert: Alert, *, mentions: bool = False) -> MessageState:
        """The alert's acknowledgement and its record's snooze and mutes, now."""
        if not snoozable(alert):
            ack = self.triage.acknowledgement(alert.id)
            return MessageState(ack=ack, mentions=mentions)
        change, at = alert.change, self.clock()
        return MessageState(
            ack=self.triage.acknowledgement(alert.id),
            snooze=self.triage.snoozed(change.topic, change.source, change.key, at),
            muted=self.triage.muted_fields(change.topic, change.source, change.key, at),
            mentions=mentions,
        )
