"""Pure: a topic's triage in plain lines, for `status`, `/status` and the digest.

User names are as Slack sent them: every caller neutralises the lines for its medium
(terminal: one_line; Slack: mrkdwn_escape; the digest: HTML autoescape). Never a mention.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.terminal_text import shown_name
from state.fields import field_label, source_label
from state.triage_types import TriageAction, TriageKind, TriageSummary, UnackedAlert

__all__ = ["triage_lines", "unacked_lines"]

_DONE = {
    TriageKind.ACKNOWLEDGE: "acknowledged",
    TriageKind.SNOOZE: "snoozed",
    TriageKind.UNSNOOZE: "unsnoozed",
    TriageKind.MUTE: "muted",
    TriageKind.UNMUTE: "unmuted",
}
_HELD = {"snoozed": "held by snooze", "muted": "held by mute"}


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _unacked(alert: UnackedAlert) -> str:
    return f"alert {alert.alert_id} ({_time(alert.created_at)}, {alert.record_key}): {alert.title}"


def unacked_lines(alerts: Sequence[UnackedAlert]) -> list[str]:
    """`trialwatch status NAME --unacked`: one line per unacknowledged high alert."""
    if not alerts:
        return ["No high alert waits for an acknowledgement."]
    count = f"{len(alerts)} high alert{'s' if len(alerts) > 1 else ''} not acknowledged:"
    return [count, *(f"  {_unacked(a)}" for a in alerts)]


def _action(action: TriageAction) -> str:
    what = f"{_DONE[action.kind]} "
    if action.kind is TriageKind.ACKNOWLEDGE:
        what += f"alert {action.alert_id}"
    elif action.field is not None:
        what += f"{field_label(action.field)} of {action.record_key}"
    else:
        what += action.record_key
    if action.until is not None:
        what += f" until {_time(action.until)}"
    return f"{_time(action.at)} {shown_name(action.user_name)} {what}"


def triage_lines(summary: TriageSummary, *, most: int = 5) -> list[str]:
    """Unacknowledged high alerts, snoozes and mutes in force, held alerts, latest actions."""
    lines: list[str] = []
    if summary.unacked_high:
        alerts = summary.unacked_high
        ids = ", ".join(_unacked(a) for a in alerts[:most])
        more = f" (+{len(alerts) - most} more)" if len(alerts) > most else ""
        lines.append(f"{len(alerts)} high alert(s) not acknowledged: {ids}{more}")
    for snooze in summary.snoozed:
        lines.append(
            f"snoozed: {snooze.record_key} ({source_label(snooze.source)}) until "
            f"{_time(snooze.until)}, by {shown_name(snooze.user_name)}"
        )
    for mute in summary.muted:
        lines.append(
            f"muted: {field_label(mute.field)} of {mute.record_key}, "
            f"by {shown_name(mute.user_name)}"
        )
    for alert_id, state, title in summary.held[:most]:
        lines.append(f"{_HELD.get(state, state)}: alert {alert_id} {title}")
    lines += [f"latest: {_action(a)}" for a in summary.recent[:most]]
    return lines
