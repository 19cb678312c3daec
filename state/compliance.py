"""Pure: compliance clocks. An FDA-regulated drug study owes results 12 months after its ACTUAL
primary completion; status shows the clock, and a poll raises ONE alert when the due date is 30
days away and ONE when it passes without results (never for states true at the baseline).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from state.types import Change, ChangeKind, Severity, StoredObservation
from watchers.model import FieldValue, Observation, SourceResult
from watchers.registry import wording

__all__ = [
    "WARN_DAYS",
    "ClockState",
    "clock_changes",
    "clock_note",
    "clock_state",
    "clocks_may_move",
    "results_due",
]

WARN_DAYS = 30
# Which fields say "bound by the law", "primary completion" and "results posted" (the specs').
_CLOCK = wording().results_clock


class ClockState(StrEnum):
    NONE = "none"  # no clock, results posted, or due more than 30 days away
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def _actual_date(value: FieldValue) -> date | None:
    """ "2025-08-28 (actual)" -> that day; a month alone counts from its last day (never early)."""
    if not isinstance(value, str) or not value.endswith("(actual)"):
        return None
    text = value.split(" ", 1)[0]
    try:
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            return date(year, month, calendar.monthrange(year, month)[1])
        return date.fromisoformat(text)
    except ValueError:
        return None


def results_due(fields: Mapping[str, FieldValue]) -> date | None:
    """When results are due, for an FDA-regulated drug study with an ACTUAL primary completion."""
    if _CLOCK is None or fields.get(_CLOCK.regulated) is not True:
        return None
    completed = _actual_date(fields.get(_CLOCK.completion))
    if completed is None:
        return None
    try:
        return completed.replace(year=completed.year + 1)
    except ValueError:  # 29 February
        return completed + timedelta(days=365)


def _posted(fields: Mapping[str, FieldValue]) -> bool:
    # A flag set true, or a date set: results are posted.
    return _CLOCK is not None and any(fields.get(name) for name in _CLOCK.posted)


def clock_state(fields: Mapping[str, FieldValue], today: date) -> ClockState:
    """Where a trial's results clock stands on `today`."""
    due = results_due(fields)
    if due is None or _posted(fields):
        return ClockState.NONE
    if today > due:
        return ClockState.OVERDUE
    return ClockState.DUE_SOON if (due - today).days <= WARN_DAYS else ClockState.NONE


def clock_note(fields: Mapping[str, FieldValue], today: date) -> str | None:
    """ "results due 2026-08-28 (in 30 days)" / "results overdue by 3 days" / None (no clock)."""
    due = results_due(fields)
    if due is None:
        return None
    if _posted(fields):
        return f"results were due {due.isoformat()}; posted"
    days = (due - today).days
    if days < 0:
        return f"results overdue by {-days} day{'s' if days != -1 else ''} (due {due.isoformat()})"
    return f"results due {due.isoformat()} (in {days} day{'s' if days != 1 else ''})"


def _event(obs: Observation, state: ClockState, today: date) -> Change:
    due = results_due(obs.fields)
    assert due is not None  # a state other than NONE has a due date
    if state is ClockState.OVERDUE:
        detail = (
            f"Results were due {due.isoformat()} (12 months after the actual primary "
            "completion of an FDA-regulated drug study) and none are posted."
        )
        severity = Severity.HIGH
    else:
        detail = (
            f"Results are due {due.isoformat()}, in {(due - today).days} days (12 months after "
            "the actual primary completion of an FDA-regulated drug study)."
        )
        severity = Severity.NORMAL
    return Change(
        kind=ChangeKind.DEADLINE,
        topic=obs.topic,
        source=obs.source,
        key=obs.key,
        title=obs.title,
        url=obs.url,
        severity=severity,
        matched_alias=obs.matched_alias,
        detail=detail,
    )


@dataclass(frozen=True)
class _Seen:
    before: Mapping[str, FieldValue]
    now: Observation


def clocks_may_move(last_success: datetime | None, at: datetime) -> bool:
    """Can a poll at `at` that saw no record change move a clock? Only on a later day than the
    last successful poll (the days `clock_changes` compares); so an unchanged poll the same day
    need not read the snapshot."""
    return last_success is not None and last_success.date() != at.date()


def _seen(
    snapshot: Mapping[str, StoredObservation],
    polled: Mapping[str, Observation],
    gone: frozenset[str],
) -> Iterator[_Seen]:
    """Each stored record still there, as stored and as it is now, one at a time (a lazily
    decoded snapshot of 10,000 records is never held decoded all at once)."""
    for key in sorted(snapshot):
        stored = snapshot[key]
        if stored.removed_at is None and key not in gone:
            yield _Seen(stored.observation.fields, polled.get(key, stored.observation))


def clock_changes(
    snapshot: Mapping[str, StoredObservation],
    result: SourceResult,
    *,
    last_success: datetime | None,
    at: datetime,
) -> list[Change]:
    """Clock alerts of one poll: a trial's clock entering "due in 30 days" or "overdue" since
    the last successful poll. A trial first seen now, or the first poll, raises nothing."""
    if last_success is None:
        return []
    polled = {obs.key: obs for obs in result.observations}
    then, today = last_success.date(), at.date()
    changes = []
    for item in _seen(snapshot, polled, result.gone):
        was, now = clock_state(item.before, then), clock_state(item.now.fields, today)
        if now is not was and now is not ClockState.NONE:
            changes.append(_event(item.now, now, today))
    return changes
