"""Pure: the triage part of an alert's Slack message: who did what (context) and the buttons.

A freshly posted alert gets the buttons only; once someone acts, the message is updated with
a context line per action ("Acknowledged by <@U…> at 09:14") and the buttons that still make
sense (Unsnooze instead of Snooze, Unmute instead of Mute). A user id is the only thing shown
as a mention, and only here; it was validated when the click was read (bot/slack/triage/clicks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.destinations.cut import truncate
from bot.slack.triage.clicks import MUTE_BUTTONS, action_id, button_value, menu_id
from state.triage_types import Acknowledgement, Mute, SnoozedRecord, TriageKind
from state.types import Alert, ChangeKind
from watchers.registry import trial_registries

__all__ = ["MessageState", "mutable_fields", "snoozable", "triage_blocks"]

Block = dict[str, Any]
_BUTTON_TEXT = 75  # Block Kit: a button's plain_text
_NOT_A_RECORD = (ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED, ChangeKind.HELD)


@dataclass(frozen=True)
class MessageState:
    """The triage state a message shows: this alert's acknowledgement, its record's snooze and
    muted fields; `mentions` only in an update after a click."""

    ack: Acknowledgement | None = None
    snooze: SnoozedRecord | None = None
    muted: dict[str, Mute] = field(default_factory=dict)
    mentions: bool = False


def snoozable(alert: Alert) -> bool:
    """Whether the alert is about a record (not a source going down, not a storm note)."""
    return alert.change.kind not in _NOT_A_RECORD


def mutable_fields(alert: Alert) -> list[tuple[str, str]]:
    """(field, label) of a trial registry change's fields: each can be muted for this trial."""
    change = alert.change
    if change.kind is not ChangeKind.UPDATED or change.source not in trial_registries():
        return []
    seen: dict[str, str] = {}
    for fc in change.field_changes:
        seen.setdefault(fc.field, fc.label)
    return list(seen.items())


def _when(at: datetime, words: str) -> str:
    """A time each reader sees in their own zone; the fallback text is UTC."""
    return f"<!date^{int(at.timestamp())}^{words}|{at.strftime('%Y-%m-%d %H:%M UTC')}>"


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, _BUTTON_TEXT)},
        "action_id": action,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _menu(
    kind: TriageKind, placeholder: str, alert_id: int, fields: list[tuple[str, str]]
) -> Block:
    return {
        "type": "static_select",
        "action_id": menu_id(kind),
        "placeholder": {"type": "plain_text", "text": placeholder},
        "options": [
            {
                "text": {"type": "plain_text", "text": truncate(label, _BUTTON_TEXT)},
                "value": button_value(alert_id, name),
            }
            for name, label in fields[:100]
        ],
    }


def _state_lines(alert: Alert, state: MessageState) -> list[str]:
    lines = []
    if state.ack:
        lines.append(
            f"✅ Acknowledged by <@{state.ack.user_id}> at {_when(state.ack.at, '{time}')}"
        )
    if state.snooze:
        until = _when(state.snooze.until, "{date_short} {time}")
        lines.append(f"💤 Snoozed until {until} by <@{state.snooze.user_id}>")
    for name, label in mutable_fields(alert):
        if mute := state.muted.get(name):
            lines.append(f"🔇 {label} muted for this trial by <@{mute.user_id}>")
    return lines


def _mute_elements(alert: Alert, muted: dict[str, Mute]) -> list[Block]:
    fields = mutable_fields(alert)
    to_mute = [(n, lbl) for n, lbl in fields if n not in muted]
    to_unmute = [(n, lbl) for n, lbl in fields if n in muted]
    if len(fields) > MUTE_BUTTONS:  # one menu each instead of a row of buttons
        menus = []
        if to_mute:
            menus.append(_menu(TriageKind.MUTE, "Mute a field for this trial", alert.id, to_mute))
        if to_unmute:
            menus.append(_menu(TriageKind.UNMUTE, "Unmute a field", alert.id, to_unmute))
        return menus
    elements = []
    for n, (name, label) in enumerate(fields, start=1):
        if name in muted:
            text, kind = f"Unmute {label}", TriageKind.UNMUTE
        else:
            text, kind = f"Mute {label} for this trial", TriageKind.MUTE
        elements.append(_button(text, action_id(kind, n), button_value(alert.id, name)))
    return elements


def triage_blocks(alert: Alert, state: MessageState) -> list[Block]:
    """Context lines (in an update) and one `actions` block; each counts in Slack's 50 blocks."""
    blocks = [_context(line) for line in _state_lines(alert, state)] if state.mentions else []
    value = button_value(alert.id)
    elements: list[Block] = []
    if state.ack is None:
        elements.append(
            _button("Acknowledge", action_id(TriageKind.ACKNOWLEDGE), value, style="primary")
        )
    if snoozable(alert):
        if state.snooze:
            elements.append(_button("Unsnooze", action_id(TriageKind.UNSNOOZE), value))
        else:
            elements.append(_button("Snooze 1 day", "trialwatch_snooze_1d", value))
            elements.append(_button("Snooze 1 week", "trialwatch_snooze_1w", value))
    elements += _mute_elements(alert, state.muted)
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return blocks
