"""The diff step of a poll (pure): what changed against the stored snapshot, in human words.

Its result (`Diff`) is carried to the write step, which stores the changed fields' times from
it: nothing is compared twice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from state.compliance import clock_changes
from state.fields import BOOKKEEPING_FIELDS, describe_changes, severity_for
from state.poll.snapshot import Snapshot
from state.types import Change, ChangeKind, FieldChange, StoredObservation
from watchers.model import Observation, SourceResult

__all__ = ["Diff", "adopt_rematched", "changed_fields", "diff", "diff_poll"]


@dataclass(frozen=True)
class Diff:
    """What one poll changed: its alerts-to-be, and per stored record what the write needs."""

    changes: list[Change]
    # Keys polled exactly as stored (`Snapshot.holds`): neither decoded nor compared.
    same: frozenset[str] = frozenset()
    # Stored records polled again (not `same`): the tracked fields whose values changed.
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def diff_poll(
    snapshot: Snapshot,
    result: SourceResult,
    *,
    last_success: datetime | None,
    baseline: bool,
    clocks_move: bool,
    at: datetime,
) -> Diff:
    """The poll's changes: records (none on the silent baseline), re-found items adopted
    (a rules upgrade), and results clocks that moved (`clocks_move`: a new day)."""
    # Most polled records are stored exactly so: they are neither decoded nor diffed.
    same = frozenset(o.key for o in result.observations if snapshot.holds(o))
    fields: dict[str, tuple[str, ...]] = {}
    changes = _diff(snapshot, result, same, fields, alerts=not baseline)
    changes = adopt_rematched(changes, result, last_success)
    if not baseline:  # the same day, only a changed record can move its clock
        polled = {obs.key for obs in result.observations}
        clocked = snapshot if clocks_move else snapshot.only(polled - same)
        changes += clock_changes(clocked, result, last_success=last_success, at=at)
    return Diff(changes=changes, same=same, fields=fields)


def changed_fields(before: Observation, after: Observation) -> tuple[FieldChange, ...]:
    """Every tracked field whose value differs, in a stable order.

    Bookkeeping fields and informational ones (named with a leading `_`, e.g. a news item's
    `_outlet`) are stored and shown but never alerted on. A field only one side has is a
    schema change, not a change of the record: a source that starts (or stops) tracking a
    field adopts it silently (a tracked field that is empty is present, as None).
    """
    names = sorted(
        name
        for name in (set(before.fields) & set(after.fields)) - BOOKKEEPING_FIELDS
        if not name.startswith("_")
    )
    return tuple(
        change
        for name in names
        if before.fields.get(name) != after.fields.get(name)
        for change in describe_changes(
            name,
            before.fields.get(name),
            after.fields.get(name),
            was=before.fields,
            now=after.fields,
        )
    )


def diff(
    previous: Mapping[str, StoredObservation],
    result: SourceResult,
    *,
    same: Collection[str] = (),
) -> list[Change]:
    """Changes between the stored snapshot of one (topic, source) and a successful poll.

    A key missing from `result.observations` is NOT removed (searches drift); only keys the
    source declared gone are. The caller handles the silent first-poll baseline. `same`: keys
    the caller already knows are stored exactly as polled (they are not even looked up).
    """
    return _diff(previous, result, frozenset(same), {})


def _diff(
    previous: Mapping[str, StoredObservation],
    result: SourceResult,
    same: Collection[str],
    changed: dict[str, tuple[str, ...]],
    *,
    alerts: bool = True,
) -> list[Change]:
    """`diff`, noting in `changed` each stored record's changed field names (the write step's
    change times); `alerts=False` (the silent baseline): only those."""
    if result.unchanged:
        return []
    changes: list[Change] = []
    for obs in result.observations:
        if obs.key in same:
            continue
        stored = previous.get(obs.key)
        fields = changed_fields(stored.observation, obs) if stored is not None else ()
        if stored is not None:
            changed[obs.key] = tuple(fc.field for fc in fields)
        if not alerts:
            continue
        if stored is None or stored.removed_at is not None:
            changes.append(_change(ChangeKind.NEW, obs, (), reappeared=stored is not None))
        elif fields:
            changes.append(_change(ChangeKind.UPDATED, obs, fields))
    if not alerts:
        return changes
    for key in sorted(result.gone):
        stored = previous.get(key)
        if stored is not None and stored.removed_at is None:
            changes.append(_change(ChangeKind.REMOVED, stored.observation, ()))
    return changes


def adopt_rematched(
    changes: list[Change], result: SourceResult, last_success: datetime | None
) -> list[Change]:
    """Drop NEW changes for items a rules upgrade merely re-found (see SourceResult).

    Only an item dated before the last successful poll is adopted: one with no date, or a
    later one, may really be new and still alerts. Nothing is adopted outside that one poll.
    """
    if not result.rules_changed or last_success is None:
        return changes
    by_key = {obs.key: obs for obs in result.observations}

    def refound(change: Change) -> bool:
        obs = by_key.get(change.key)
        published = obs.published if obs is not None else None
        return (
            change.kind is ChangeKind.NEW
            and published is not None
            and _aware(published) < _aware(last_success)
        )

    return [change for change in changes if not refound(change)]


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC timestamps; sources give aware ones.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _change(
    kind: ChangeKind,
    obs: Observation,
    fields: tuple[FieldChange, ...],
    *,
    reappeared: bool = False,
) -> Change:
    detail = None
    if kind is ChangeKind.REMOVED:
        detail = "The source no longer has this record."
    elif reappeared:
        detail = "Back in the source after it had been removed."
    return Change(
        kind=kind,
        topic=obs.topic,
        source=obs.source,
        key=obs.key,
        title=obs.title,
        url=obs.url,
        severity=severity_for(obs.source, kind, obs.fields, fields),
        matched_alias=obs.matched_alias,
        matched_in=_text(obs, "_matched_in"),
        excerpt=_text(obs, "_excerpt"),
        field_changes=fields,
        published=obs.published,
        detail=detail,
    )


def _text(obs: Observation, name: str) -> str | None:
    value = obs.fields.get(name)
    return value if isinstance(value, str) and value else None
