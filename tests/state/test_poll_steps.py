"""The poll as one package (state/poll/): one connection per poll, the diff carried to the
write, and routes given to the store once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

import state.poll.diff
from state import store as store_module
from state.store import Store
from state.types import ChangeKind
from tests.factories import Clock, result, trial
from tests.state.helpers import pending_alerts, routed
from tests.state.test_timeline import fusion_versions

CONSOLE = {"console": None}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_a_date_move_reads_its_history_on_the_polls_one_connection(store: Store) -> None:
    clock = Clock()
    routed(store, CONSOLE).apply_poll(result(trial()), started=clock(), at=clock())
    for version in fusion_versions():
        store.history.add(version, at=clock())
    clock.advance(days=1)
    checkouts: list[object] = []
    event.listen(store.engine, "checkout", lambda *args: checkouts.append(args[0]))
    moved = result(trial(primary_completion_date="2026-12 (estimated)"))
    report = routed(store, CONSOLE).apply_poll(moved, started=clock(), at=clock())
    [change] = report.changes
    [moved_date] = change.field_changes  # the history was read: which move this is
    assert "(3rd move, 3 months later; 42 months later than first registered;" in moved_date.text
    assert len(checkouts) == 1  # and on the poll's own connection: no second checkout


def test_the_write_stores_change_times_from_the_diff_without_comparing_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    routed(store, CONSOLE).apply_poll(result(trial()), started=clock(), at=clock())
    described: list[str] = []
    describe = state.poll.diff.describe_changes

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        described.append(name)
        return describe(name, *args, **kwargs)

    monkeypatch.setattr(state.poll.diff, "describe_changes", counting)
    clock.advance(hours=1)
    changed = result(trial(overall_status="COMPLETED"))
    routed(store, CONSOLE).apply_poll(changed, started=clock(), at=clock())
    assert described == ["overall_status"]  # compared once, by the diff
    stored = store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.field_changed_at["overall_status"] == clock()  # the write used its result


def test_routes_given_at_start_up_route_every_poll_and_failure(db_url: str) -> None:
    routes = store_module.Routes(by_topic={"ulefnersen": {"slack": "#fus-als"}}, default=CONSOLE)
    store = Store.open(db_url, failures_before_alert=1, routes=routes)
    try:
        clock = Clock()
        store.apply_poll(result(trial()), started=clock(), at=clock())
        store.apply_poll(result(trial(overall_status="COMPLETED")), started=clock(), at=clock())
        store.record_failure("tofersen", "openfda", "HTTP 503", started=clock(), at=clock())
        [completed] = pending_alerts(store.outbox, "slack")
        assert (completed.change.kind, completed.channel) == (ChangeKind.UPDATED, "#fus-als")
        [down] = pending_alerts(store.outbox, "console")  # a topic without its own routes
        assert (down.change.kind, down.change.topic) == (ChangeKind.SOURCE_DOWN, "tofersen")
    finally:
        store.close()
