"""Pure: the "Coming up" lines (the next 90 days) and the guidance that passed unrecorded, for
the digest and the dashboard, from the same entries as the table and the feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from markupsafe import Markup

from bot.calendar.model import Entry, passed_guidance

__all__ = ["AHEAD", "coming_up", "coming_up_section", "digest_lines", "passed_line"]

AHEAD = timedelta(days=90)


def coming_up(found: Sequence[Entry], today: date) -> list[Entry]:
    """Milestones whose span reaches into the next 90 days, soonest first."""
    return [e for e in found if e.last_day >= today and e.day <= today + AHEAD]


def passed_line(entry: Entry) -> str:
    """ "FUSION topline (guidance 2026-H2) has passed: no record of it yet"."""
    return f"{entry.title} has passed: no record of it yet"


def digest_lines(found: Sequence[Entry], start: datetime, end: datetime) -> list[str]:
    """A digest's calendar lines: guidance that passed in its window, then what is coming up."""
    lines = [passed_line(e) for e in passed_guidance(found, start, end)]
    lines += [f"Coming up: {e.title}" for e in coming_up(found, end.date())]
    return lines


def coming_up_section(found: Sequence[Entry], today: date) -> Markup:
    """The dashboard's "Coming up" section (the next 90 days)."""
    rows = [
        Markup("<tr><td data-label='When'>{}</td><td data-label='Milestone'>{}</td></tr>").format(
            e.shown, Markup("<a href='{}'>{}</a>").format(e.link, e.title) if e.link else e.title
        )
        for e in coming_up(found, today)
    ]
    body = (
        Markup("").join(rows) if rows else Markup("<tr><td>Nothing in the next 90 days.</td></tr>")
    )
    return Markup("<h2>Coming up</h2><table class='stack'>{}</table>").format(body)
