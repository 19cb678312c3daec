"""Pure: a trial's timeline from its registry versions (status changes, date moves, total slip).

Also words which move a live date change is ("3rd move, 3 months later; 42 months later than
first registered") from the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from state.types import Change, ChangeKind, FieldChange, StoredObservation
from watchers.model import FieldValue, RegistryVersion
from watchers.registry import wording

__all__ = [
    "DATE_FIELDS",
    "Move",
    "annotate_moves",
    "date_moves",
    "month_index",
    "ordinal",
    "shift_words",
    "timeline_lines",
]

# The dates a clinical team follows, in the order they happen (the trial registries' specs).
DATE_FIELDS = wording().dates
_STATUS_FIELD = wording().status or ""
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


def annotate_moves(
    changes: Sequence[Change], histories: Mapping[str, Sequence[RegistryVersion]]
) -> list[Change]:
    """Each live date move says which move it is, when the trial's history is known."""
    dated = {field for field, _ in DATE_FIELDS}
    annotated: list[Change] = []
    for change in changes:
        versions = histories.get(change.key)
        if change.kind is not ChangeKind.UPDATED or not versions:
            annotated.append(change)
            continue
        fields = []
        for field_change in change.field_changes:
            note = _which_move(field_change, versions) if field_change.field in dated else None
            text = f"{field_change.text} ({note})" if note else field_change.text
            fields.append(replace(field_change, text=text))
        annotated.append(replace(change, field_changes=tuple(fields)))
    return annotated
