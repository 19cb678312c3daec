"""A topic's dated facts from stored state, for the programme calendar: no new source.

Each date a spec's wording lists for its calendar (a trial's start and completions, a meeting's
day), with every earlier value and when it changed (the registry history, then the live record:
state/timeline.py's `date_moves`), and each trial's results due date (state/compliance.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from state.codec import observation_from_row
from state.compliance import ClockState, clock_state, results_due
from state.history import versions_in
from state.schema import snapshot
from state.timeline import DATE_FIELDS, date_moves
from state.types import StoredObservation
from watchers.model import RegistryVersion
from watchers.registry import REGISTRY

__all__ = ["RESULTS_DUE", "DatedFact", "Slip", "dated_facts"]

# The results due date is no field of a record: it has this name as a calendar entry's field.
RESULTS_DUE = "results_due"
_HISTORY_FIELDS = frozenset(field for field, _ in DATE_FIELDS)


@dataclass(frozen=True)
class Slip:
    """One value a date had, and when it was first seen (None: as first registered)."""

    value: str
    seen: datetime | None


@dataclass(frozen=True)
class DatedFact:
    """One date of one record: where it comes from, its value now and every earlier one."""

    topic: str
    source: str
    key: str  # the record (trial id, document number)
    field: str
    label: str  # the field in people's words (the spec's wording)
    title: str
    url: str | None
    value: str  # as stored: "2026-09 (estimated)", "2025-08-28 (actual)", "2027-01-15"
    first_seen: datetime
    slips: tuple[Slip, ...] = ()  # every value, oldest first; the last is `value`
    overdue: bool = False  # a results due date passed with no results posted


def _when(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        return datetime.fromisoformat(since[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _slips(
    stored: StoredObservation, field: str, value: str, versions: Sequence[RegistryVersion]
) -> tuple[Slip, ...]:
    """The registry history's values, then the live one when it moved since."""
    moves = date_moves(versions, field) if field in _HISTORY_FIELDS else []
    slips = [Slip(move.value, _when(move.since)) for move in moves]
    if not slips or slips[-1].value != value:
        seen = stored.field_changed_at.get(field) if slips else None
        slips.append(Slip(value, seen))
    return tuple(slips)


def _results_due(stored: StoredObservation, today: date, topic: str) -> DatedFact | None:
    fields = stored.observation.fields
    due = results_due(fields)
    if due is None:
        return None
    obs = stored.observation
    return DatedFact(
        topic=topic,
        source=obs.source,
        key=obs.key,
        field=RESULTS_DUE,
        label="Results due (FDAAA)",
        title=obs.title,
        url=obs.url,
        value=due.isoformat(),
        first_seen=stored.first_seen,
        overdue=clock_state(fields, today) is ClockState.OVERDUE,
    )


def dated_facts(engine: Engine, topic: str, today: date) -> list[DatedFact]:
    """Every calendar date stored for `topic`, on one connection."""
    specs = [s for s in REGISTRY if s.wording.calendar and not s.instances]
    facts: list[DatedFact] = []
    with engine.connect() as connection:
        records: list[StoredObservation] = []
        for spec in specs:
            query = select(snapshot).where(snapshot.c.topic == topic, snapshot.c.source == spec.id)
            records += [observation_from_row(row) for row in connection.execute(query)]
        live = [r for r in records if r.removed_at is None]
        histories = versions_in(connection, {r.observation.key for r in live})
    labels = {spec.id: spec.wording.calendar for spec in specs}
    for stored in live:
        obs = stored.observation
        versions = histories.get(obs.key, [])
        for field, label in labels[obs.source]:
            value = obs.fields.get(field)
            if not isinstance(value, str) or not value:
                continue
            facts.append(
                DatedFact(
                    topic=topic,
                    source=obs.source,
                    key=obs.key,
                    field=field,
                    label=label,
                    title=obs.title,
                    url=obs.url,
                    value=value,
                    first_seen=stored.first_seen,
                    slips=_slips(stored, field, value, versions),
                )
            )
        due = _results_due(stored, today, topic)
        if due is not None:
            facts.append(due)
    return facts
