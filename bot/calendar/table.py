"""Pure: the calendar as the terminal table `trialwatch calendar NAME` prints, soonest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.calendar.model import Entry
from bot.terminal_text import one_line

__all__ = ["calendar_table", "slip_words"]


def slip_words(entry: Entry) -> str:
    """ "moved twice: 2023-06 (estimated) -> 2025-06 (estimated, 2022-03-01) -> ..." or ""."""
    if entry.sequence == 0:
        return ""
    steps = [
        f"{s.value} (seen {s.seen.date().isoformat()})" if s.seen else s.value for s in entry.slips
    ]
    times = {1: "once", 2: "twice"}.get(entry.sequence, f"{entry.sequence} times")
    return f"moved {times}: " + " -> ".join(steps)


def calendar_table(found: Sequence[Entry], today: date, *, past: bool = False) -> str:
    """Upcoming milestones (with `past`: those gone by, latest first), one block each."""
    if past:
        shown = sorted((e for e in found if e.last_day < today), key=lambda e: e.day, reverse=True)
    else:
        shown = [e for e in found if e.last_day >= today]
    if not shown:
        return "No past milestones stored.\n" if past else "No upcoming milestones stored.\n"
    lines = [f"{'When':<11} {'Confidence':<18} {'Source':<26} Milestone"]
    for entry in shown:
        overdue = " OVERDUE" if entry.overdue and not past else ""
        lines.append(
            f"{entry.shown:<11} {entry.confidence.value:<18} {one_line(entry.kind)[:26]:<26} "
            f"{one_line(entry.what)}{overdue}"
        )
        where = entry.link or entry.record
        lines.append(f"{'':<57}from {one_line(entry.record)}: {one_line(where)}")
        if slips := slip_words(entry):
            lines.append(f"{'':<57}{one_line(slips)}")
        if entry.note:
            lines.append(f"{'':<57}{one_line(entry.note)}")
    return "\n".join(lines) + "\n"
