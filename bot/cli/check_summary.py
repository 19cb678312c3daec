"""What `trialwatch check` prints: progress as polls end, then a summary that fits 80x24.

Without -v each source is one summary line (its topics folded together), each failure is
printed once, and long reasons are cut in the middle so that both what failed and how it ended
stay readable; -v prints a line per poll with whole reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.app import CheckReport
from bot.destinations.quiet import quiet_note
from bot.polling.pipeline import PollSummary
from bot.terminal_text import one_line
from state.fields import source_label
from state.types import PollOutcome
from watchers.net.responses import is_unreachable

__all__ = ["OFFLINE_HINT", "Progress", "cut", "poll_line", "summary_lines"]

# Two short lines, so the hint fits an 80-column terminal whole.
OFFLINE_HINT = (
    "hint: no source could be reached: is this machine offline or behind a proxy?\n"
    "      see README#troubleshooting"
)
_LABEL_WIDTH = 28
_MIN_TAIL = 12  # a shorter end than this says nothing: end with "…" instead
_VERDICT = 20  # a last clause this short is the verdict ("connection refused"): kept whole
_CLAUSE = re.compile(r"[:;] ")


def cut(text: str, width: int | None, *, keep: int = 0) -> str:
    """`text` in `width` columns: the first `keep` columns whole, then of the rest its
    meaningful parts (its first clause, or a short final verdict), "…" for the middle."""
    if width is None or len(text) <= width:
        return text
    head, rest = text[:keep], text[keep:]
    room = width - len(head) - 1  # one column for "…"
    if room < _MIN_TAIL:
        return text[: max(1, width - 1)] + "…"
    bounds = [m.end() for m in _CLAUSE.finditer(rest)]
    first = rest[: bounds[0]].rstrip() if bounds else ""
    last = rest[bounds[-1] :] if bounds else ""
    if first and len(first) + len(last) <= room:
        return f"{head}{first}…{last}"
    if last and len(last) <= _VERDICT:
        return f"{head}{rest[: room - len(last)]}…{last}"
    front = len(first) if first and len(first) <= room else room * 2 // 3
    back = room - front
    tail = rest[len(rest) - back :] if back >= _MIN_TAIL else ""
    return f"{head}{rest[:front]}…{tail}"


def poll_line(poll: PollSummary, *, width: int | None, with_topic: bool = True) -> str:
    """One poll as a line: outcome, source (and topic), alerts and time, or why it failed."""
    where = one_line(source_label(poll.source) + (f" ({poll.topic})" if with_topic else ""))
    if poll.outcome is PollOutcome.FAILED:
        line = f"  FAILED {where}: "
        return cut(line + one_line(poll.error or "unknown error"), width, keep=len(line))
    alerts = f"; {poll.alerts} alert(s)" if poll.alerts else ""
    line = f"  {poll.outcome.value:<9} {where:<{_LABEL_WIDTH}} {poll.duration_s:.2f}s{alerts}"
    return cut(line, width)


def _source_line(polls: list[PollSummary], topics: int, width: int | None) -> str:
    """One source's polls of every topic as one line; a failure once, whatever the topics."""
    label = source_label(polls[0].source)
    failed = [p for p in polls if p.outcome is PollOutcome.FAILED]
    if failed:
        if len(failed) < topics:
            label += f" ({', '.join(p.topic for p in failed)})"
        reasons = list(dict.fromkeys(one_line(p.error or "unknown error") for p in failed))
        more = f" (+{len(reasons) - 1} other reason(s): -v)" if len(reasons) > 1 else ""
        line = f"  FAILED {label}{more}: "
        return cut(line + reasons[0], width, keep=len(line))
    outcomes = {p.outcome for p in polls}
    outcome = outcomes.pop() if len(outcomes) == 1 else PollOutcome.OK
    alerts = sum(p.alerts for p in polls)
    seconds = sum(p.duration_s for p in polls)
    tail = f"; {alerts} alert(s)" if alerts else ""
    return cut(f"  {outcome.value:<9} {label:<{_LABEL_WIDTH}} {seconds:.2f}s{tail}", width)


def _poll_lines(polls: list[PollSummary], width: int | None) -> list[str]:
    topics = len({p.topic for p in polls})
    if width is None:  # -v: every poll, with its topic when there are several
        return [poll_line(p, width=None, with_topic=topics > 1) for p in polls]
    by_source: dict[str, list[PollSummary]] = {}
    for poll in polls:
        by_source.setdefault(poll.source, []).append(poll)
    return [_source_line(group, topics, width) for group in by_source.values()]


def summary_lines(
    report: CheckReport,
    *,
    width: int | None,
    any_source: bool,
    delivered_elsewhere: Mapping[str, int] | None = None,
) -> list[str]:
    """The run summary; `width` cuts long lines and folds topics (None: everything, for -v).

    `delivered_elsewhere`: per destination, alerts another trialwatch process (the running
    service) delivered while this check ran."""
    polls = report.polls
    failed = [p for p in polls if p.outcome is PollOutcome.FAILED]
    skipped = [p for p in polls if p.outcome is PollOutcome.SKIPPED]
    ok = len(polls) - len(failed) - len(skipped)
    alerts = sum(p.alerts for p in polls)
    held = f", {len(skipped)} skipped ({_skip_reasons(skipped)})" if skipped else ""
    lines = ["trialwatch check", *_poll_lines(polls, width)]
    lines.append(f"sources: {ok} ok, {len(failed)} failed{held}; new alerts: {alerts}")
    elsewhere = delivered_elsewhere or {}
    for delivery in report.deliveries:
        line = f"delivered to {delivery.destination}: {delivery.sent}"
        if others := elsewhere.get(delivery.destination, 0):
            line += f" ({others} alert(s) already delivered by the running service)"
        if delivery.failed or delivery.still_pending:
            line += f"; failed: {delivery.failed}; still pending: {delivery.still_pending}"
        if delivery.quiet_until:
            line += f"; {quiet_note(delivery.quiet_until, delivery.held)}"
        if delivery.triaged:
            line += f"; held by snooze or mute: {delivery.triaged} (see status)"
        lines.append(line)
        lines += [cut(f"  {one_line(error)}", width, keep=2) for error in delivery.errors]
    lines += _history_lines(report, failed, width)
    # Nothing answered and some hosts could not even be reached: most likely the network.
    if failed and ok == 0 and not skipped and any(is_unreachable(p.error) for p in failed):
        lines.append(OFFLINE_HINT)
    if not any_source:
        lines.append("no source is enabled: add a [sources.*] section to the config")
    return lines


def _history_lines(report: CheckReport, failed: list[PollSummary], width: int | None) -> list[str]:
    errors = [h.error for h in report.history if h.error]
    if not errors:
        return []
    shown = {p.error for p in failed} if width is not None else set()
    reason = "same reason as above" if errors[0] in shown else one_line(errors[0])
    line = f"registry history: {len(errors)} trial(s) not imported: "
    return [cut(line + reason, width, keep=len(line))]


@dataclass
class Progress:
    """Each finished poll: a line per poll with -v; else one counter rewritten in place on a
    terminal (nothing when piped), so the summary alone reports each failure."""

    write: Callable[[str], None]
    total: int
    verbose: bool
    terminal: bool
    with_topic: bool
    done: list[PollSummary] = field(default_factory=list)

    def __call__(self, poll: PollSummary) -> None:
        self.done.append(poll)
        if self.verbose:
            self.write(poll_line(poll, width=None, with_topic=self.with_topic) + "\n")
        elif self.terminal:
            failed = sum(p.outcome is PollOutcome.FAILED for p in self.done)
            self.write(f"\r  {len(self.done)}/{self.total} polls done, {failed} failed\x1b[K")

    def close(self) -> None:
        """Clear the counter before the summary."""
        if self.terminal and not self.verbose and self.done:
            self.write("\r\x1b[K")


def _skip_reasons(skipped: list[PollSummary]) -> str:
    """Why polls were skipped, each reason once (the pipeline says why; older callers may not)."""
    reasons = list(
        dict.fromkeys(one_line(p.reason or "polled by another trialwatch") for p in skipped)
    )
    return reasons[0] + (f"; +{len(reasons) - 1} other reason(s): -v" if len(reasons) > 1 else "")
