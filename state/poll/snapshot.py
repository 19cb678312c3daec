"""A (topic, source)'s stored snapshot as a poll reads and writes it: lean, and decoded lazily.

A 10,000-study search must not hold the snapshot twice (table rows plus decoded records) or
build an ORM object per row. The snapshot is read once as plain rows, 500 at a time, and each
is compared with its polled record as it comes: one held exactly (most of them, on most polls)
is kept as that record alone, its stored JSON dropped; another row is decoded only when someone
asks for it. Writes are batched Core statements:
one INSERT per batch of new records, one UPDATE per batch of records seen again unchanged,
and the changed records' UPDATEs sent together (executemany of a statement built once).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Row, Update, bindparam, insert, select, update
from sqlmodel import Session

from state.codec import aware, dump_fields, dump_times, observation_from_row
from state.schema import SnapshotRow
from state.schema import snapshot as snapshot_table
from state.types import StoredObservation
from watchers.model import Observation, SourceResult

__all__ = ["Snapshot", "load_snapshot", "write_snapshot"]

_BATCH = 500  # rows per statement: well inside every backend's parameter limit
T = TypeVar("T")


class Snapshot(Mapping[str, StoredObservation]):
    """The stored records of one (topic, source), by key, each decoded when asked for.

    `polled`: this poll's records. A stored row that holds its polled record exactly is kept as
    that record alone (`holds` is then known): the diff neither decodes nor compares it, so
    10,000 unchanged studies cost no stored JSON at all.
    """

    def __init__(self, rows: Iterable[Row[Any]] = (), polled: Iterable[Observation] = ()) -> None:
        by_key = {obs.key: obs for obs in polled}
        self._rows: dict[str, Row[Any] | Observation] = {}
        for row in rows:
            obs = by_key.get(row.key)
            self._rows[row.key] = obs if obs is not None and _holds(row, obs) else row

    def __getitem__(self, key: str) -> StoredObservation:
        row = self._rows[key]
        if isinstance(row, Observation):  # a caller that did not ask `holds` first
            raise LookupError(f"{key} was polled exactly as stored: its row was not kept")
        return observation_from_row(cast(SnapshotRow, row))

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def holds(self, obs: Observation) -> bool:
        """Is `obs` exactly the stored record (and that record not marked removed)?"""
        row = self._rows.get(obs.key)
        if isinstance(row, Observation):  # compared when read: the row held that record
            return row is obs or row == obs
        return row is not None and _holds(row, obs)

    def only(self, keys: Iterable[str]) -> dict[str, StoredObservation]:
        """These keys' records (those stored), decoded."""
        return {key: self[key] for key in keys if key in self._rows}

    def row_id(self, key: str) -> int:
        row = self._rows[key]
        assert not isinstance(row, Observation), "a record held exactly is never rewritten"
        return int(row.id)


def _holds(row: Row[Any], obs: Observation) -> bool:
    """Is `obs` exactly the stored `row` (and that row not marked removed)?"""
    return (
        row.removed_at is None
        and (row.title, row.url, row.matched_alias) == (obs.title, obs.url, obs.matched_alias)
        and aware(row.published) == obs.published
        and row.fields_json == dump_fields(obs.fields)
    )


def load_snapshot(
    session: Session, topic: str, source: str, polled: Iterable[Observation] = ()
) -> Snapshot:
    """The (topic, source)'s stored records, read in the caller's transaction; with `polled`,
    500 rows at a time (a server-side cursor on PostgreSQL), and a row it holds exactly is not
    kept (see Snapshot)."""
    table = snapshot_table
    query = select(table).where(table.c.topic == topic, table.c.source == source)
    polled = tuple(polled)
    if polled:  # rows are dropped as they come: stream them (else all are kept anyway)
        query = query.execution_options(yield_per=_BATCH)
    return Snapshot(session.connection().execute(query), polled)


def write_snapshot(
    session: Session,
    result: SourceResult,
    previous: Snapshot,
    at: datetime,
    *,
    same: frozenset[str] = frozenset(),
    changed: Mapping[str, tuple[str, ...]],
) -> None:
    """Upsert the poll's observations (with per-field change times) and mark `gone` keys.

    `same`: keys whose polled record `previous.holds` exactly; they only get `last_seen`.
    `changed`: the diff's changed field names of each other stored record (not compared again).
    """
    table, connection = snapshot_table, session.connection()
    fresh: list[dict[str, Any]] = []
    # Changed records, by whether their change times move (two shapes of one UPDATE).
    moved: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for obs in result.observations:
        if obs.key in same:
            continue
        if obs.key in previous:
            values = _updated_row(previous, obs, changed.get(obs.key, ()), at)
            moved["r_last_changed" in values].append(values)
            continue
        fresh.append(_new_row(obs, at))
        if len(fresh) == _BATCH:  # a batch at a time: 10,000 new rows are never all in memory
            connection.execute(insert(table), fresh)
            fresh.clear()
    if fresh:
        connection.execute(insert(table), fresh)
    for times, rows in moved.items():
        for batch in _batches(rows):
            connection.execute(_update_statement(times), batch)
    mine = (table.c.topic == result.topic) & (table.c.source == result.source)
    for keys in _batches(sorted(same)):
        connection.execute(update(table).where(mine, table.c.key.in_(keys)).values(last_seen=at))
    for keys in _batches(sorted(result.gone)):
        connection.execute(
            update(table)
            .where(mine, table.c.key.in_(keys), table.c.removed_at.is_(None))
            .values(removed_at=at, last_changed=at)
        )


def _updated_row(
    previous: Snapshot, obs: Observation, changed: tuple[str, ...], at: datetime
) -> dict[str, Any]:
    """A record polled again, changed (or back after removal): its new values and times, as
    `_update_statement`'s parameters."""
    stored = previous[obs.key]
    values: dict[str, Any] = {
        "r_id": previous.row_id(obs.key),
        "r_title": obs.title,
        "r_url": obs.url,
        "r_matched_alias": obs.matched_alias,
        "r_published": obs.published,
        "r_fields_json": dump_fields(obs.fields),
        "r_last_seen": at,
    }
    if changed or stored.removed_at is not None:
        times = stored.field_changed_at | dict.fromkeys(changed, at)
        values |= {"r_field_changed_at_json": dump_times(times), "r_last_changed": at}
    return values


@functools.cache
def _update_statement(times: bool) -> Update:
    """The UPDATE of one changed record (with `times`: its change times too), built once."""
    table = snapshot_table
    columns = ["title", "url", "matched_alias", "published", "fields_json", "last_seen"]
    if times:
        columns += ["field_changed_at_json", "last_changed"]
    values: dict[str, Any] = {
        name: bindparam(f"r_{name}", type_=table.c[name].type) for name in columns
    }
    return update(table).where(table.c.id == bindparam("r_id")).values(**values, removed_at=None)


def _batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


def _new_row(obs: Observation, at: datetime) -> dict[str, Any]:
    return {
        "topic": obs.topic,
        "source": obs.source,
        "key": obs.key,
        "title": obs.title,
        "url": obs.url,
        "published": obs.published,
        "matched_alias": obs.matched_alias,
        "fields_json": dump_fields(obs.fields),
        "field_changed_at_json": "{}",
        "first_seen": at,
        "last_seen": at,
        "last_changed": at,
        "removed_at": None,
    }
