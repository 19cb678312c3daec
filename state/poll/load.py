"""The load steps of a poll: its state and stored snapshot, then the evidence enrichment needs.

Both read on the poll's one connection, inside its transaction. Evidence is read once per poll
and only what this poll's changes need (a trial poll reads no stories), each part in one query,
as plain values (the types enrichment declares, state/poll/enrich.py), so enrichment is pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from state.codec import observation_from_row
from state.compliance import clocks_may_move
from state.history import versions_in
from state.poll.enrich import (
    UNCONFIRMED,
    EarlierAlert,
    Evidence,
    folding_of,
    is_official,
    text_field,
)
from state.poll.leases import load_state, release_in
from state.poll.snapshot import Snapshot, load_snapshot
from state.schema import AlertRow, PollStateRow, SnapshotRow, from_sources
from state.timeline import DATE_FIELDS
from state.types import Change, ChangeKind
from watchers.model import Observation, RegistryVersion, SourceResult
from watchers.registry import specs_where
from watchers.spec import Folding

__all__ = ["STORY_WINDOW", "Loaded", "load_evidence", "load_poll"]

# Outlets retell a story over a day or two; later items are new stories.
STORY_WINDOW = timedelta(hours=48)
_IN_CHUNK = 500  # values per IN (...) list: well inside every backend's parameter limit


@dataclass(frozen=True)
class Loaded:
    """A (topic, source) as the poll finds it: its state and the snapshot the diff needs."""

    state: PollStateRow
    snapshot: Snapshot
    clocks_move: bool  # a new day since the last success: a results clock may move

    @property
    def baseline(self) -> bool:
        """The first successful poll: stored silently."""
        return self.state.baseline_at is None


def load_poll(
    session: Session, result: SourceResult, at: datetime, owner: str | None
) -> Loaded | None:
    """The pair's state and snapshot; None when `owner`'s lease was taken over. An unchanged
    result (304, same stamp) reads no snapshot unless a new day may move a results clock."""
    state = load_state(session, result.topic, result.source)
    if owner is not None and not release_in(state, owner):
        return None
    moved = clocks_may_move(state.last_success, at)
    baseline = state.baseline_at is None
    if result.unchanged and (baseline or not moved):
        snapshot = Snapshot()
    else:  # a new day's clocks read every stored record; else the polled ones are held as is
        polled = () if moved else result.observations
        snapshot = load_snapshot(session, result.topic, result.source, polled)
    return Loaded(state, snapshot, moved)


def load_evidence(
    session: Session,
    changes: Sequence[Change],
    result: SourceResult,
    at: datetime,
    *,
    window: timedelta = STORY_WINDOW,
) -> Evidence:
    """Read what enriching `changes` will ask about, and nothing else."""
    by_key = {obs.key: obs for obs in result.observations}
    new = [by_key[c.key] for c in changes if c.kind is ChangeKind.NEW and c.key in by_key]
    touched = [
        by_key[c.key]
        for c in changes
        if c.kind in (ChangeKind.NEW, ChangeKind.UPDATED) and c.key in by_key
    ]
    folds = [obs for obs in new if folding_of(obs.source, obs.fields) is not Folding.NEVER]
    topic = result.topic
    return Evidence(
        stories=_stories(session, topic, at - window)
        if any(folding_of(o.source, o.fields) is Folding.SAME_STORY for o in folds)
        else (),
        by_url=_first_alerts(session, topic, {o.url for o in folds if o.url}),
        official_records=_official_records(session, result)
        if any(text_field(o, "_claim") and not is_official(o) for o in new)
        else (),
        unconfirmed=_unconfirmed(session, topic) if any(map(is_official, touched)) else (),
        histories=_histories(session, changes),
    )


def _histories(session: Session, changes: Sequence[Change]) -> dict[str, list[RegistryVersion]]:
    """Registry history of the trials whose dates these changes move (often none)."""
    dated = {field for field, _ in DATE_FIELDS}
    keys = [c.key for c in changes if any(fc.field in dated for fc in c.field_changes)]
    return versions_in(session.connection(), keys) if keys else {}


def _stories(session: Session, topic: str, since: datetime) -> tuple[EarlierAlert, ...]:
    """News alerts of this topic within the window, with the items that told them."""
    rows = session.exec(
        select(AlertRow)
        .where(
            AlertRow.topic == topic,
            AlertRow.kind == ChangeKind.NEW.value,
            col(AlertRow.created_at) >= since,
            from_sources(col(AlertRow.source), specs_where(folding=Folding.SAME_STORY)),
        )
        .order_by(col(AlertRow.id))
    ).all()
    alerts = _earlier(session, topic, rows)
    return tuple(
        a
        for a in alerts
        if a.told_by is not None and folding_of(a.source, a.told_by.fields) is Folding.SAME_STORY
    )


def _first_alerts(session: Session, topic: str, urls: set[str]) -> dict[str, EarlierAlert]:
    """The first "new" alert of any topic that linked to each of `urls`."""
    first: dict[str, AlertRow] = {}
    ordered = sorted(urls)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = session.exec(
            select(AlertRow)
            .where(
                col(AlertRow.url).in_(ordered[start : start + _IN_CHUNK]),
                AlertRow.kind == ChangeKind.NEW.value,
            )
            .order_by(col(AlertRow.id))
        ).all()
        for row in rows:
            first.setdefault(row.url, row)
    return {alert.url: alert for alert in _earlier(session, topic, first.values())}


def _official_records(session: Session, result: SourceResult) -> tuple[Observation, ...]:
    """The topic's official records as they stand once this poll is written."""
    rows = session.exec(
        select(SnapshotRow).where(
            SnapshotRow.topic == result.topic,
            col(SnapshotRow.removed_at).is_(None),
            from_sources(col(SnapshotRow.source), specs_where(official_evidence=True)),
        )
    ).all()
    records = {(r.source, r.key): observation_from_row(r).observation for r in rows}
    for key in result.gone:
        records.pop((result.source, key), None)
    if not result.unchanged:
        records.update({(o.source, o.key): o for o in result.observations})
    return tuple(r for r in records.values() if is_official(r))


def _unconfirmed(session: Session, topic: str) -> tuple[tuple[EarlierAlert, str], ...]:
    """Earlier alerts whose claim no official record backed yet, with the claim kind."""
    rows = session.exec(
        select(AlertRow)
        .where(AlertRow.topic == topic, col(AlertRow.claim_label).like(f"{UNCONFIRMED}%"))
        .order_by(col(AlertRow.id))
    ).all()
    pairs = [(a, text_field(a.told_by, "_claim")) for a in _earlier(session, topic, rows)]
    return tuple((alert, claim) for alert, claim in pairs if claim)


def _earlier(session: Session, topic: str, rows: Iterable[AlertRow]) -> list[EarlierAlert]:
    """Alert rows as values, each with this topic's stored item of the same source and key."""
    rows = list(rows)
    told = _observations(session, topic, {row.key for row in rows})
    alerts = []
    for row in rows:
        assert row.id is not None
        alerts.append(
            EarlierAlert(
                id=row.id,
                source=row.source,
                title=row.title,
                url=row.url,
                matched_alias=row.matched_alias,
                also_reported_by=tuple(json.loads(row.also_reported_by_json)),
                told_by=told.get((row.source, row.key)),
            )
        )
    return alerts


def _observations(
    session: Session, topic: str, keys: set[str]
) -> dict[tuple[str, str], Observation]:
    """This topic's stored items with these keys, by (source, key)."""
    found: dict[tuple[str, str], Observation] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = session.exec(
            select(SnapshotRow).where(
                SnapshotRow.topic == topic,
                col(SnapshotRow.key).in_(ordered[start : start + _IN_CHUNK]),
            )
        ).all()
        found.update({(r.source, r.key): observation_from_row(r).observation for r in rows})
    return found
