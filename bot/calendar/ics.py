"""Pure: the calendar as an iCalendar feed (the icalendar library), for calendar apps.

Each milestone is an all-day event on its first day, under ONE UID for life: a slip moves the
event (SEQUENCE = its known moves, LAST-MODIFIED = when the last was seen) instead of adding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from bot.calendar.model import Entry
from bot.calendar.table import slip_words

__all__ = ["calendar_feed"]

_PRODID = "-//trialwatch//programme calendar//EN"


def _event(entry: Entry, now: datetime) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("summary", entry.title)
    event.add("dtstart", entry.day)
    event.add("dtend", entry.day + timedelta(days=1))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", entry.sequence)
    if entry.modified is not None:
        event.add("last-modified", entry.modified.astimezone(UTC))
    lines = [f"Confidence: {entry.confidence.value}", f"Source: {entry.record}"]
    if entry.overdue:
        lines.append("Results are overdue.")
    if slips := slip_words(entry):
        lines.append(slips.capitalize())
    if entry.note:
        lines.append(entry.note)
    event.add("description", "\n".join(lines))
    if entry.link:
        event.add("url", entry.link)
    event.add("categories", [entry.kind])
    event.add("transp", "TRANSPARENT")  # a milestone takes nobody's time
    return event


def calendar_feed(name: str, found: Sequence[Entry], now: datetime) -> bytes:
    """An iCalendar document named `name` holding `found`."""
    feed = Calendar()
    feed.add("prodid", _PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", name)
    for entry in found:
        feed.add_component(_event(entry, now))
    body: bytes = feed.to_ical()
    return body
