"""What `trialwatch check` prints: a progress line per poll, then a summary that fits 80x24."""

from __future__ import annotations

from bot.app import CheckReport
from bot.destinations.quiet import quiet_note
from bot.pipeline import PollSummary
from bot.terminal_text import one_line
from state.fields import source_label
from state.types import PollOutcome
from watchers.responses import is_unreachable

__all__ = ["OFFLINE_HINT", "poll_line", "summary_lines"]

# Two short lines, so the hint fits an 80-column terminal whole.
OFFLINE_HINT = (
    "hint: no source could be reached: is this machine offline or behind a proxy?\n"
    "      see README#troubleshooting"
)
_LABEL_WIDTH = 28


def _cut(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


def poll_line(poll: PollSummary, *, width: int | None, with_topic: bool = True) -> str:
    """One poll as a line: outcome, source (and topic), alerts and time, or why it failed."""
    where = one_line(source_label(poll.source) + (f" ({poll.topic})" if with_topic else ""))
    if poll.outcome is PollOutcome.FAILED:
        line = f"  FAILED {where}: {one_line(poll.error or 'unknown error')}"
    else:
        alerts = f"; {poll.alerts} alert(s)" if poll.alerts else ""
        line = f"  {poll.outcome.value:<9} {where:<{_LABEL_WIDTH}} {poll.duration_s:.2f}s{alerts}"
    return _cut(line, width)


def summary_lines(report: CheckReport, *, width: int | None, any_source: bool) -> list[str]:
    """The run summary; `width` cuts long lines (None: whole reasons, for -v)."""
    polls = report.polls
    failed = [p for p in polls if p.outcome is PollOutcome.FAILED]
    skipped = sum(p.outcome is PollOutcome.SKIPPED for p in polls)
    ok = len(polls) - len(failed) - skipped
    alerts = sum(p.alerts for p in polls)
    held = f", {skipped} skipped (polled by another trialwatch just now)" if skipped else ""
    lines = ["trialwatch check"]
    with_topic = len({p.topic for p in polls}) > 1
    lines += [poll_line(p, width=width, with_topic=with_topic) for p in polls]
    lines.append(f"sources: {ok} ok, {len(failed)} failed{held}; new alerts: {alerts}")
    for delivery in report.deliveries:
        line = f"delivered to {delivery.destination}: {delivery.sent}"
        if delivery.failed or delivery.still_pending:
            line += f"; failed: {delivery.failed}; still pending: {delivery.still_pending}"
        if delivery.quiet_until:
            line += f"; {quiet_note(delivery.quiet_until, delivery.held)}"
        if delivery.triaged:
            line += f"; held by snooze or mute: {delivery.triaged} (see status)"
        lines.append(line)
        lines += [_cut(f"  {one_line(error)}", width) for error in delivery.errors]
    if polls and len(failed) == len(polls) and all(is_unreachable(p.error) for p in failed):
        lines.append(OFFLINE_HINT)
    if not any_source:
        lines.append("no source is enabled: add a [sources.*] section to the config")
    return lines
