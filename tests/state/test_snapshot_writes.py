"""Snapshot writes of a big poll: batched statements, times kept right, nothing decoded twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from state.store import Store
from state.types import ChangeKind, PollOutcome
from tests.factories import Clock, result, trial
from tests.state.helpers import routed

TOPIC, SOURCE = "ulefnersen", "clinicaltrials"
MANY = 1_200  # more than two batches


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


@contextmanager
def snapshot_writes(engine: Engine) -> Iterator[list[str]]:
    """Each INSERT or UPDATE of the snapshot table (an executemany counts once)."""
    seen: list[str] = []

    def executing(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if re.match(r"\s*(INSERT INTO|UPDATE) snapshot\b", statement, re.IGNORECASE):
            seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", executing)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executing)


def trials(**changes: Any) -> list[Any]:
    return [trial(key=f"NCT{n:08d}", **changes) for n in range(MANY)]


def test_a_big_poll_writes_its_snapshot_in_batches(store: Store) -> None:
    clock = Clock()
    with snapshot_writes(store.engine) as cold:
        report = routed(store, {}).apply_poll(result(*trials()), started=clock(), at=clock())
    assert report.outcome is PollOutcome.BASELINE
    assert len(store.snapshot(TOPIC, SOURCE)) == MANY
    assert 1 <= len(cold) <= 3  # batches of 500, not one INSERT per record
    clock.advance(hours=1)
    with snapshot_writes(store.engine) as again:  # every record polled again, none changed
        report = routed(store, {}).apply_poll(result(*trials()), started=clock(), at=clock())
    assert (report.outcome, report.changes) == (PollOutcome.OK, ())
    assert again == ["UPDATE"] * 3  # last_seen, 500 records at a time
    stored = store.snapshot(TOPIC, SOURCE)["NCT00000007"]
    assert stored.last_seen == clock() and stored.last_changed < clock()


def test_changed_records_keep_their_times_right(store: Store) -> None:
    first, clock = Clock(), Clock()
    kept, changed, bookkeeping = "NCT00000001", "NCT00000002", "NCT00000003"
    routed(store, {}).apply_poll(
        result(trial(key=kept), trial(key=changed), trial(key=bookkeeping)),
        started=first(),
        at=first(),
    )
    clock.advance(hours=2)
    report = routed(store, {}).apply_poll(
        result(
            trial(key=kept),
            trial(key=changed, overall_status="COMPLETED"),
            trial(key=bookkeeping, last_update_posted="2026-11-02"),  # never alerted on
            gone=frozenset({"NCT00000009"}),  # never stored: nothing to mark
        ),
        started=clock(),
        at=clock(),
    )
    [alert] = report.changes
    assert (alert.kind, alert.key) == (ChangeKind.UPDATED, changed)
    snapshot = store.snapshot(TOPIC, SOURCE)
    assert snapshot[changed].field_changed_at == {"overall_status": clock()}
    assert snapshot[changed].last_changed == clock()
    assert snapshot[changed].observation.fields["overall_status"] == "COMPLETED"
    assert snapshot[bookkeeping].observation.fields["last_update_posted"] == "2026-11-02"
    assert snapshot[bookkeeping].last_changed == first()  # stored, not a change
    for key in (kept, changed, bookkeeping):
        assert snapshot[key].last_seen == clock()
    assert snapshot[kept].last_changed == first() and snapshot[kept].field_changed_at == {}


def test_a_removed_record_that_comes_back_is_new_again_and_stored_as_present(
    store: Store,
) -> None:
    clock, key = Clock(), "NCT00000001"
    routed(store, {}).apply_poll(result(trial(key=key)), started=clock(), at=clock())
    clock.advance(hours=1)
    routed(store, {}).apply_poll(result(gone=frozenset({key})), started=clock(), at=clock())
    assert store.snapshot(TOPIC, SOURCE)[key].removed_at == clock()
    clock.advance(hours=1)
    report = routed(store, {}).apply_poll(result(trial(key=key)), started=clock(), at=clock())
    [back] = report.changes  # identical fields, but it had been removed
    assert back.kind is ChangeKind.NEW and back.detail and "Back in the source" in back.detail
    stored = store.snapshot(TOPIC, SOURCE)[key]
    assert stored.removed_at is None and stored.last_changed == clock()
