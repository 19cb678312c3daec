"""A re-poll of a big search holds no stored JSON for the records it finds exactly as stored."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from state.codec import dump_fields
from state.poll.snapshot import load_snapshot
from state.store import Store
from state.types import ChangeKind
from tests.factories import Clock, result, trial
from tests.state.helpers import routed
from watchers.model import Observation

TOPIC, SOURCE = "ulefnersen", "clinicaltrials"
MANY = 1_200  # more than two batches of 500
# Real records carry pages of outcomes and criteria (~1.5 KB of JSON for a small study).
CRITERIA = tuple(
    f"Criterion {n}: adults with a confirmed diagnosis and no prior therapy" for n in range(20)
)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def trials() -> list[Observation]:
    return [trial(key=f"NCT{n:08d}", eligibility_criteria=CRITERIA) for n in range(MANY)]


def test_records_polled_exactly_as_stored_cost_no_stored_json(store: Store) -> None:
    clock = Clock()
    polled = trials()
    routed(store, {}).apply_poll(result(*polled), started=clock(), at=clock())
    stored_json = sum(len(dump_fields(obs.fields)) for obs in polled)
    with Session(store.engine) as session:
        tracemalloc.start()
        try:
            snapshot = load_snapshot(session, TOPIC, SOURCE, polled)
            kept = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert len(snapshot) == MANY and all(map(snapshot.holds, polled))
    # Before, every row was kept with its JSON: more than the JSON itself.
    assert kept < 0.2 * stored_json, f"{kept / MANY:.0f} bytes a record kept"


def test_a_re_poll_still_finds_the_one_change_among_many(store: Store) -> None:
    clock = Clock()
    routed(store, {}).apply_poll(result(*trials()), started=clock(), at=clock())
    clock.advance(hours=1)
    again = trials()
    again[7] = trial(key="NCT00000007", eligibility_criteria=CRITERIA[1:])
    report = routed(store, {}).apply_poll(result(*again), started=clock(), at=clock())
    assert [(c.kind, c.key) for c in report.changes] == [(ChangeKind.UPDATED, "NCT00000007")]
    stored = store.snapshot(TOPIC, SOURCE)["NCT00000007"]
    assert stored.observation.fields["eligibility_criteria"] == CRITERIA[1:]
    assert stored.field_changed_at["eligibility_criteria"] == clock()
