"""Pure: a topic's triage in plain lines, for `status`, `/status` and the digest.

User names are as Slack sent them: every caller neutralises the lines for its medium
(terminal: one_line; Slack: mrkdwn_escape; the digest: HTML autoescape). Never a mention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.destinations.cut import truncate
from bot.terminal_text import shown_name
from state.fields import field_label, source_label
from state.triage_types import TriageAction, TriageKind, TriageSummary, UnackedAlert

__all__ = ["TITLE_LIMIT", "triage_lines", "unacked_lines"]

_DONE = {
    TriageKind.ACKNOWLEDGE: "acknowledged",
    TriageKind.SNOOZE: "snoozed",
    TriageKind.UNSNOOZE: "unsnoozed",
    TriageKind.MUTE: "muted",
    TriageKind.UNMUTE: "unmuted",
}
_HELD = {"snoozed": "held by snooze", "muted": "held by mute"}
# An alert's title in a triage line: enough to recognise it, short enough for one line.
TITLE_LIMIT = 60


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _alert(alert_id: int, title: str | None) -> str:
    """ "alert 11 “FDA approves …”": the id to act on, the title to recognise it by."""
    return f"alert {alert_id}" + (f" “{truncate(title, TITLE_LIMIT)}”" if title else "")


def _unacked(alert: UnackedAlert) -> str:
    when = f"({_time(alert.created_at)}, {alert.record_key})"
    return f"alert {alert.alert_id} {when}: {truncate(alert.title, TITLE_LIMIT)}"


def unacked_lines(alerts: Sequence[UnackedAlert]) -> list[str]:
    """`trialwatch status NAME --unacked`: one line per unacknowledged high alert."""
    if not alerts:
        return ["No high alert waits for an acknowledgement."]
    count = f"{len(alerts)} high alert{'s' if len(alerts) > 1 else ''} not acknowledged:"
    return [count, *(f"  {_unacked(a)}" for a in alerts)]


def _action(action: TriageAction, titles: Mapping[int, str]) -> str:
    what = f"{_DONE[action.kind]} "
    if action.kind is TriageKind.ACKNOWLEDGE:
        what += _alert(action.alert_id, titles.get(action.alert_id))
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
        lines.append(f"{_HELD.get(state, state)}: {_alert(alert_id, title)}")
    lines += [f"latest: {_action(a, summary.titles)}" for a in summary.recent[:most]]
    return lines
