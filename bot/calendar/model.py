"""Pure: a topic's milestones from its dated facts and the team's guidance, one policy for all.

Confidence, the UID (topic + record + field, never the date: a slip moves the event), the
slip count and when the last move was seen are decided here, so the table, the iCalendar feed,
the dashboard and the digest all say the same.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from bot.calendar.milestones import Milestone
from bot.links import web_link
from state.calendar import DatedFact, Slip
from state.fields import source_label

__all__ = [
    "GUIDANCE",
    "Confidence",
    "Entry",
    "confidence_of",
    "entries",
    "passed_guidance",
]

GUIDANCE = "guidance"  # the kind of a team-entered milestone, never mixed up with registry dates


class Confidence(StrEnum):
    ACTUAL = "actual"
    DAY = "estimated (day)"
    MONTH = "estimated (month)"
    PLACEHOLDER = "placeholder"  # an estimate on 31 December or 1 January
    WINDOW = "window"  # guidance given as a half or a quarter


def _day_and_kind(value: str) -> tuple[str, str]:
    """ "2026-09 (estimated)" -> ("2026-09", "estimated"); "2027-01-15" -> ("2027-01-15", "")."""
    text, _, kind = value.partition(" (")
    return text.strip(), kind.rstrip(")").strip().lower()


def confidence_of(value: str) -> Confidence:
    """How sure a stored date is, from its value alone."""
    text, kind = _day_and_kind(value)
    if kind == "actual":
        return Confidence.ACTUAL
    if len(text) == 7:
        return Confidence.MONTH
    if text[5:] in ("12-31", "01-01"):
        return Confidence.PLACEHOLDER
    return Confidence.DAY


def first_day(value: str) -> date | None:
    """The first day a stored date can mean ("2026-09" -> 2026-09-01), or None."""
    text, _ = _day_and_kind(value)
    try:
        return date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Entry:
    """One milestone as every output shows it."""

    uid: str
    topic: str
    day: date  # its first possible day (a month or a window: the first of it)
    last_day: date  # the last (the same day unless a month or a window)
    what: str  # "FUSION (NCT04768972): Primary completion"
    shown: str  # "2026-09", "2026-H2", "2027-01-15"
    confidence: Confidence
    kind: str  # the source's label, or "guidance"
    record: str  # the record and field it comes from: "NCT04768972, Primary completion"
    link: str | None  # only http(s), as bot/links.py says
    slips: tuple[Slip, ...] = ()
    modified: datetime | None = None  # when its last move was seen; None: never moved
    overdue: bool = False
    note: str | None = None
    estimate: bool = True  # said to be an estimate (a scheduled meeting's day is not)

    @property
    def sequence(self) -> int:
        """How many times it moved (iCalendar SEQUENCE)."""
        return max(len(self.slips) - 1, 0)

    @property
    def title(self) -> str:
        """ "FUSION topline (guidance 2026-H2)": the window or month in the title."""
        extra = f", {self.confidence.value}" if self.confidence is not Confidence.ACTUAL else ""
        if self.kind == GUIDANCE:
            return f"{self.what} ({GUIDANCE} {self.shown})"
        overdue = ", overdue" if self.overdue else ""
        return f"{self.what} ({self.shown}{extra}{overdue})"


def _uid(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
    return f"{digest}@trialwatch"


def _from_fact(fact: DatedFact) -> Entry | None:
    start = first_day(fact.value)
    if start is None:
        return None
    text, kind = _day_and_kind(fact.value)
    last = start
    if len(text) == 7:
        last = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    moved = [s.seen for s in fact.slips[1:] if s.seen is not None]
    return Entry(
        uid=_uid(fact.topic, fact.source, fact.key, fact.field),
        topic=fact.topic,
        day=start,
        last_day=last,
        what=f"{fact.title} ({fact.key}): {fact.label}",
        shown=text,
        confidence=confidence_of(fact.value),
        kind=source_label(fact.source),
        record=f"{fact.key}, {fact.label}",
        link=web_link(fact.url),
        slips=fact.slips,
        modified=moved[-1] if moved else None,
        overdue=fact.overdue,
        estimate=kind == "estimated",
    )


def _from_guidance(topic: str, milestone: Milestone) -> Entry:
    start, last = milestone.days
    if milestone.window is not None:
        confidence, shown = Confidence.WINDOW, milestone.window
    else:
        confidence, shown = confidence_of(start.isoformat()), start.isoformat()
    return Entry(
        uid=_uid(topic, GUIDANCE, milestone.name),
        topic=topic,
        day=start,
        last_day=last,
        what=milestone.name,
        shown=shown,
        confidence=confidence,
        kind=GUIDANCE,
        record=GUIDANCE,
        link=web_link(milestone.source),
        note=milestone.note,
    )


def entries(
    topic: str,
    facts: Iterable[DatedFact],
    guidance: Sequence[Milestone],
) -> list[Entry]:
    """Every milestone of a topic, soonest first."""
    found = [e for f in facts if (e := _from_fact(f)) is not None]
    found += [_from_guidance(topic, m) for m in guidance]
    return sorted(found, key=lambda e: (e.day, e.what))


def passed_guidance(found: Sequence[Entry], start: datetime, end: datetime) -> list[Entry]:
    """Guidance whose last day ended within [start, end) with no actual registry or regulator
    date in its span: each is listed once by consecutive digests (their windows tile time)."""
    listed = []
    for entry in found:
        if entry.kind != GUIDANCE:
            continue
        passed = datetime.combine(date.fromordinal(entry.last_day.toordinal() + 1), time(), UTC)
        if not start <= passed < end:
            continue
        if not any(_happened_within(other, entry) for other in found if other.kind != GUIDANCE):
            listed.append(entry)
    return listed


def _happened_within(other: Entry, guidance: Entry) -> bool:
    # An actual date, or a day no source calls an estimate (a meeting), within the span.
    happened = other.confidence is Confidence.ACTUAL or not other.estimate
    return happened and guidance.day <= other.day <= guidance.last_day
