"""Pure: a topic's milestones from its dated facts and the team's guidance, one policy for all.

The UID (topic + record + field, never the date: a slip moves the event), the slip count and
when the last move was seen are decided here, so the table, the iCalendar feed, the dashboard
and the digest all say the same; how sure a date is comes from state/timeline.py's one rule.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.config.milestones import Milestone
from bot.links import web_link
from state.calendar import DatedFact, Slip
from state.fields import source_label
from state.timeline import Confidence, confidence_of, first_day, split_date

__all__ = [
    "GUIDANCE",
    "Entry",
    "entries",
    "passed_guidance",
]

GUIDANCE = "guidance"  # the kind of a team-entered milestone, never mixed up with registry dates


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
    text, kind = split_date(fact.value)
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
        confidence=confidence_of(fact.value) or Confidence.DAY,
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
        confidence, shown = confidence_of(start.isoformat()) or Confidence.DAY, start.isoformat()
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
