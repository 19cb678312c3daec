"""Pure: a trial's timeline from its registry versions (status changes, date moves, total slip).

Also words which move a live date change is ("3rd move, 3 months later; 42 months later than
first registered") from the same history, and how sure a moved date is ("now placeholder").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from itertools import pairwise

from state.types import Change, ChangeKind, FieldChange, StoredObservation
from watchers.model import FieldValue, RegistryVersion
from watchers.registry import wording

__all__ = [
    "DATE_FIELDS",
    "Confidence",
    "Move",
    "annotate_moves",
    "confidence_of",
    "date_moves",
    "first_day",
    "month_index",
    "ordinal",
    "protocol_lines",
    "shift_words",
    "split_date",
    "timeline_lines",
]

# The dates a clinical team follows, in the order they happen (the trial registries' specs).
DATE_FIELDS = wording().dates
_STATUS_FIELD = wording().status or ""
_LABELS = wording().labels
_TIMES = {1: "once", 2: "twice"}


@dataclass(frozen=True)
class Move:
    """One value of a field and the date it took effect (None: as first registered)."""

    value: str
    since: str | None


def month_index(value: str | None) -> int | None:
    """ "2026-09 (estimated)" -> months since year 0, or None when it is not a date."""
    if not value or len(value) < 7:
        return None
    try:
        return int(value[:4]) * 12 + int(value[5:7]) - 1
    except ValueError:
        return None


def shift_words(months: int) -> str:
    """+3 -> "3 months later", -1 -> "1 month earlier", 0 -> "the same month"."""
    if months == 0:
        return "the same month"
    count = abs(months)
    return f"{count} month{'s' if count != 1 else ''} {'later' if months > 0 else 'earlier'}"


def _shown(move: Move) -> str:
    """ "2025-06 (est., 2023-02-01)": the value, its type and since when."""
    date, _, kind = move.value.partition(" (")
    kind = kind.rstrip(")")
    word = {"estimated": "est."}.get(kind, kind)
    inside = ", ".join(part for part in (word, move.since) if part)
    return f"{date} ({inside})" if inside else date


def date_moves(versions: Sequence[RegistryVersion], field: str) -> list[Move]:
    """The distinct successive values of a date field, each with the version date it came in."""
    moves: list[Move] = []
    for version in versions:
        value = getattr(version, field)
        if value is None:
            continue
        if not moves:
            moves.append(Move(value, None))
        elif value != moves[-1].value:
            moves.append(Move(value, version.date))
    return moves


def _slip(moves: Sequence[Move]) -> str | None:
    first, last = month_index(moves[0].value), month_index(moves[-1].value)
    if first is None or last is None or first == last:
        return None
    return f"{shift_words(last - first)} in total"


def _date_line(label: str, moves: Sequence[Move]) -> str:
    path = " -> ".join(_shown(move) for move in moves)
    count = len(moves) - 1
    if count == 0:
        return f"{label}: {path}, never moved"
    times = _TIMES.get(count, f"{count} times")
    slip = _slip(moves)
    return f"{label} moved {times}: {path}" + (f" ({slip})" if slip else "")


def _status_line(versions: Sequence[RegistryVersion], words: Callable[[str], str]) -> str | None:
    path: list[str] = []
    last: str | None = None
    for version in versions:
        status = getattr(version, _STATUS_FIELD, None)
        if status and status != last:
            path.append(f"{words(status)} ({version.date})")
            last = status
    return "Status: " + " -> ".join(path) if path else None


def timeline_lines(
    versions: Sequence[RegistryVersion],
    *,
    status_words: Callable[[str], str] = str,
    live: StoredObservation | None = None,
) -> list[str]:
    """The timeline in lines: versions span, status changes with dates, each date's moves.

    `live` is the record as last polled: a date it moved since the newest stored version is the
    last move ("live <date>"), so the lines agree with the chart and the live alerts.
    """
    if not versions:
        return []
    lines = [
        f"Registry history: {len(versions)} version{'s' if len(versions) != 1 else ''}, "
        f"{versions[0].date} to {versions[-1].date}"
    ]
    status = _status_line(versions, status_words)
    if status:
        lines.append(status)
    for field, label in DATE_FIELDS:
        moves = date_moves(versions, field)
        if moves and live is not None:
            moves += _live_move(live, field, moves[-1])
        if moves:
            lines.append(_date_line(label, moves))
    return lines + protocol_lines(versions)


def _protocol_value(value: FieldValue) -> str:
    if value is None or value == ():
        return "(none)"
    return "; ".join(value) if isinstance(value, tuple) else str(value)


def protocol_lines(versions: Sequence[RegistryVersion]) -> list[str]:
    """Each protocol field that changed between versions: "Primary outcome changed once: v7
    (2023-04-11): <old> -> <new>". A version stored without the field tells nothing."""
    changes: dict[str, list[str]] = {}
    for older, newer in pairwise(versions):
        for field in newer.protocol:
            if field in older.protocol and older.protocol[field] != newer.protocol[field]:
                changes.setdefault(field, []).append(
                    f"v{newer.version} ({newer.date}): {_protocol_value(older.protocol[field])}"
                    f" -> {_protocol_value(newer.protocol[field])}"
                )
    lines = []
    for field in sorted(changes, key=lambda name: list(versions[-1].protocol).index(name)):
        moves = changes[field]
        times = _TIMES.get(len(moves), f"{len(moves)} times")
        label = _LABELS.get(field, field.replace("_", " ").capitalize())
        lines.append(f"{label} changed {times}: " + "; ".join(moves))
    return lines


def _live_move(live: StoredObservation, field: str, last: Move) -> list[Move]:
    value = live.observation.fields.get(field)
    if not isinstance(value, str) or month_index(value) is None or value == last.value:
        return []
    changed = live.field_changed_at.get(field)
    return [Move(value, f"live {changed.date().isoformat()}" if changed else "live")]


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 3 -> 3rd, 11 -> 11th."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _which_move(change: FieldChange, versions: Sequence[RegistryVersion]) -> str | None:
    moves = date_moves(versions, change.field)
    if not moves or not isinstance(change.after, str):
        return None
    # The history may already hold this very value (imported after the registry posted it).
    count = len(moves) - 1 + (0 if moves[-1].value == change.after else 1)
    before, after = _month(change.before), month_index(change.after)
    first = month_index(moves[0].value)
    parts = [f"{ordinal(count)} move"]
    if before is not None and after is not None:
        parts[0] += f", {shift_words(after - before)}"
    if first is not None and after is not None:
        since = after - first
        parts.append(
            f"{shift_words(since)} than first registered" if since else "as first registered"
        )
    return "; ".join(parts)


def _month(value: FieldValue) -> int | None:
    return month_index(value) if isinstance(value, str) else None


# A move this large, or an actual date going back to an estimate, says how sure the new date is.
BIG_MOVE_DAYS = 30


def split_date(value: str) -> tuple[str, str]:
    """ "2026-09 (estimated)" -> ("2026-09", "estimated"); "2027-01-15" -> ("2027-01-15", "")."""
    text, _, kind = value.partition(" (")
    return text.strip(), kind.rstrip(")").strip().lower()


def first_day(value: str) -> date | None:
    """The first day a stored date can mean ("2026-09 (estimated)" -> 2026-09-01), or None."""
    text, _ = split_date(value)
    try:
        return date.fromisoformat(text if len(text) == 10 else f"{text[:7]}-01")
    except ValueError:
        return None


class Confidence(StrEnum):
    """How sure a date is: THE rule for alerts and the calendar (`words` in alert text)."""

    ACTUAL = "actual"
    DAY = "estimated (day)"
    MONTH = "estimated (month)"
    PLACEHOLDER = "placeholder"  # an estimate on 31 December or 1 January
    WINDOW = "window"  # guidance given as a half or a quarter

    @property
    def words(self) -> str:
        """As an alert says it: "estimated to the month"."""
        spelled = {
            "estimated (day)": "estimated to the day",
            "estimated (month)": "estimated to the month",
        }
        return spelled.get(self.value, self.value)


def confidence_of(value: str) -> Confidence | None:
    """How sure a stored date is, from its value alone; a date with no type (an EU end date,
    a meeting day) counts as an estimate. None when it holds no date."""
    day = first_day(value)
    if day is None:
        return None
    text, kind = split_date(value)
    if kind == "actual":
        return Confidence.ACTUAL
    if len(text) < 10:
        return Confidence.MONTH
    if (day.month, day.day) in ((12, 31), (1, 1)):
        return Confidence.PLACEHOLDER
    return Confidence.DAY


def _confidence_note(change: FieldChange) -> str | None:
    """ "now estimated to the month" for a move of 30 days or more, or actual -> estimated."""
    before, after = change.before, change.after
    if not isinstance(before, str) or not isinstance(after, str):
        return None
    if not (split_date(before)[1] and split_date(after)[1]):
        return None  # the registry gave no type: nothing to say about how sure it is
    old, new, sure = first_day(before), first_day(after), confidence_of(after)
    if old is None or new is None or sure is None:
        return None
    unsure_again = confidence_of(before) is Confidence.ACTUAL and sure is not Confidence.ACTUAL
    if abs((new - old).days) < BIG_MOVE_DAYS and not unsure_again:
        return None
    return ("back to an estimate: " if unsure_again else "") + f"now {sure.words}"


def annotate_moves(
    changes: Sequence[Change], histories: Mapping[str, Sequence[RegistryVersion]]
) -> list[Change]:
    """Each live date move says which move it is (when the trial's history is known) and, when
    it is large or goes back to an estimate, how sure the new date is."""
    dated = {field for field, _ in DATE_FIELDS}
    annotated: list[Change] = []
    for change in changes:
        versions = histories.get(change.key) or ()
        if change.kind is not ChangeKind.UPDATED:
            annotated.append(change)
            continue
        fields = []
        for field_change in change.field_changes:
            notes = []
            if field_change.field in dated:
                notes = [
                    note
                    for note in (
                        _which_move(field_change, versions) if versions else None,
                        _confidence_note(field_change),
                    )
                    if note
                ]
            text = f"{field_change.text} ({'; '.join(notes)})" if notes else field_change.text
            fields.append(replace(field_change, text=text))
        annotated.append(replace(change, field_changes=tuple(fields)))
    return annotated
