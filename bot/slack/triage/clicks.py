"""A Slack `block_actions` payload read defensively into one Click, or a BadClick with a reason.

Only what trialwatch put in its own buttons is trusted to mean anything (the action id and the
value naming our alert id and a field); everything else (the user, the channel, the message)
is checked against strict patterns, and the record an action applies to is read from our own
database later, never from the payload. Format: docs/sources.md#slack-interactivity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from state.triage_types import TriageKind

__all__ = [
    "ACTION_IDS",
    "MUTE_BUTTONS",
    "BadClick",
    "Click",
    "action_id",
    "button_value",
    "menu_id",
    "parse_click",
    "parse_form",
]

# Slack user ids (U…, or W… on Enterprise Grid); channel ids; message and action timestamps.
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{2,30}")
SLACK_TS = re.compile(r"\d{1,12}\.\d{1,9}")
FIELD = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# Alert ids are database INTEGERs: a larger number names no alert (and must not reach a query).
MAX_ALERT_ID = 2**31 - 1
MAX_NAME = 80
# At most this many "Mute <field>" buttons; more fields become one menu.
MUTE_BUTTONS = 3

SNOOZES = {"trialwatch_snooze_1d": timedelta(days=1), "trialwatch_snooze_1w": timedelta(weeks=1)}
_SINGLE = {
    "trialwatch_ack": TriageKind.ACKNOWLEDGE,
    "trialwatch_snooze_1d": TriageKind.SNOOZE,
    "trialwatch_snooze_1w": TriageKind.SNOOZE,
    "trialwatch_unsnooze": TriageKind.UNSNOOZE,
    "trialwatch_mute_menu": TriageKind.MUTE,
    "trialwatch_unmute_menu": TriageKind.UNMUTE,
}
# Action ids must be unique within a block: one per mute / unmute button.
_NUMBERED = {
    f"trialwatch_{kind.value}_{n}": kind
    for kind in (TriageKind.MUTE, TriageKind.UNMUTE)
    for n in range(1, 26)
}
ACTION_IDS: dict[str, TriageKind] = {**_SINGLE, **_NUMBERED}


class BadClick(ValueError):
    """A payload trialwatch will not act on; the message is the reason (safe to log)."""


@dataclass(frozen=True)
class Click:
    """One button press on one of our messages, as far as the payload can say."""

    user_id: str
    user_name: str
    channel_id: str
    message_ts: str
    action_ts: str
    kind: TriageKind
    alert_id: int
    field: str | None = None
    snooze: timedelta | None = None

    @property
    def looks(self) -> str:
        """What the click is to the person (user, button, message, value), not when: Slack
        gives each press its own action_ts, so identical presses share only this."""
        snooze = int(self.snooze.total_seconds()) if self.snooze else ""
        button = f"{self.kind.value}{snooze}"
        where = f"{self.channel_id}/{self.message_ts}"
        return f"{self.user_id}|{button}|{where}|{self.alert_id}|{self.field or ''}"


def action_id(kind: TriageKind, n: int = 1) -> str:
    """The action id of a button (mute / unmute buttons are numbered within their block)."""
    if kind in (TriageKind.MUTE, TriageKind.UNMUTE):
        return f"trialwatch_{kind.value}_{n}"
    return next(a for a, k in _SINGLE.items() if k is kind)


def menu_id(kind: TriageKind) -> str:
    """The action id of the mute / unmute menu (more fields than MUTE_BUTTONS)."""
    return f"trialwatch_{kind.value}_menu"


def button_value(alert_id: int, field: str | None = None) -> str:
    """What a button carries: our alert id (and the field), never any feed text."""
    value: dict[str, Any] = {"alert": alert_id}
    if field is not None:
        value["field"] = field
    return json.dumps(value, separators=(",", ":"))


def _text(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadClick(f"{what} is missing or malformed")
    return value


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadClick(f"{what} is missing or not an object")
    return value


def _value(action: dict[str, Any]) -> tuple[int, str | None]:
    raw = action.get("value")
    if raw is None and isinstance(action.get("selected_option"), dict):
        raw = action["selected_option"].get("value")  # a static_select's chosen option
    if not isinstance(raw, str) or len(raw) > 2000:
        raise BadClick("action value is missing")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadClick("action value is not ours") from None
    alert = value.get("alert") if isinstance(value, dict) else None
    if not isinstance(alert, int) or isinstance(alert, bool) or not 0 < alert <= MAX_ALERT_ID:
        raise BadClick("action value names no alert")
    field = value.get("field")
    if field is not None:
        field = _text(field, FIELD, "action value's field")
    return alert, field


def parse_click(payload: Any) -> Click:
    """The Click in a decoded `block_actions` payload; BadClick says why there is none."""
    body = _dict(payload, "payload")
    if body.get("type") != "block_actions":
        raise BadClick(f"payload type {str(body.get('type'))[:40]!r} is not handled")
    user = _dict(body.get("user"), "user")
    user_id = _text(user.get("id"), USER_ID, "user.id")
    name = user.get("username") or user.get("name") or user_id
    user_name = name[:MAX_NAME] if isinstance(name, str) else user_id
    container = _dict(body.get("container"), "container")
    channel = body["channel"] if isinstance(body.get("channel"), dict) else {}
    channel_id = _text(
        container.get("channel_id") or channel.get("id"), CHANNEL_ID, "container.channel_id"
    )
    message_ts = _text(container.get("message_ts"), SLACK_TS, "container.message_ts")
    actions = body.get("actions")
    if not isinstance(actions, list) or len(actions) != 1:
        raise BadClick("expected exactly one action")
    action = _dict(actions[0], "action")
    name_of_action = action.get("action_id")
    kind = ACTION_IDS.get(name_of_action) if isinstance(name_of_action, str) else None
    if kind is None:
        raise BadClick(f"unknown action id {str(name_of_action)[:60]!r}")
    action_ts = _text(action.get("action_ts"), SLACK_TS, "action_ts")
    alert_id, field = _value(action)
    if kind in (TriageKind.MUTE, TriageKind.UNMUTE) and field is None:
        raise BadClick("a mute action names no field")
    return Click(
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        message_ts=message_ts,
        action_ts=action_ts,
        kind=kind,
        alert_id=alert_id,
        field=field if kind in (TriageKind.MUTE, TriageKind.UNMUTE) else None,
        snooze=SNOOZES.get(name_of_action) if isinstance(name_of_action, str) else None,
    )


def parse_form(body: bytes) -> Click:
    """The Click in an interactivity request body (form field `payload`, JSON)."""
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    raw = form.get("payload")
    if not raw:
        raise BadClick("no payload field")
    try:
        payload = json.loads(raw[0])
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise BadClick("payload is not JSON") from None
    return parse_click(payload)
