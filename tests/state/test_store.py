"""Store behaviour on a real database: baseline, one-transaction commits, outbox, health."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from state.store import Store
from state.types import ChangeKind, DeliveryState, PollOutcome
from tests.factories import Clock, deliver, fail_delivery, result, trial
from tests.state.helpers import pending_alerts, poll_meta, routed

SLACK = {"slack": "#fus-als-watch"}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url, failures_before_alert=3)
    yield s
    s.close()


def poll(store: Store, clock: Clock, res, destinations=SLACK):  # type: ignore[no-untyped-def]
    return routed(store, destinations).apply_poll(res, started=clock(), at=clock())


def test_first_poll_is_a_silent_baseline(store: Store) -> None:
    clock = Clock()
    report = poll(store, clock, result(trial(), trial("NCT09999999")))
    assert report.outcome is PollOutcome.BASELINE
    assert report.changes == ()
    assert pending_alerts(store.outbox, "slack") == []
    assert set(store.snapshot("ulefnersen", "clinicaltrials")) == {"NCT04768972", "NCT09999999"}


def test_change_is_stored_with_its_alert_and_delivery(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    clock.advance(hours=1)
    report = poll(store, clock, result(trial(overall_status="COMPLETED")))
    assert report.outcome is PollOutcome.OK
    [pending] = pending_alerts(store.outbox, "slack")
    assert pending.channel == "#fus-als-watch"
    assert pending.change.kind is ChangeKind.UPDATED
    assert [fc.text for fc in pending.change.field_changes] == [
        "Status: Active, not recruiting → Completed"
    ]
    stored = store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.observation.fields["overall_status"] == "COMPLETED"
    assert stored.field_changed_at == {"overall_status": clock()}
    assert stored.first_seen < stored.last_changed == clock()


def test_rerun_with_same_data_alerts_nothing(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    poll(store, clock, result(trial(overall_status="COMPLETED")))
    report = poll(store, clock, result(trial(overall_status="COMPLETED")))
    assert report.changes == ()
    assert len(pending_alerts(store.outbox, "slack")) == 1


def test_failure_leaves_snapshot_untouched_and_counts_health(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    before = store.snapshot("ulefnersen", "clinicaltrials")
    for _ in range(2):
        clock.advance(hours=1)
        report = routed(store, SLACK).record_failure(
            "ulefnersen",
            "clinicaltrials",
            "HTTP 500",
            started=clock(),
            at=clock(),
        )
        assert report.changes == ()
    assert store.snapshot("ulefnersen", "clinicaltrials") == before
    [health] = store.health("ulefnersen")
    assert health.consecutive_failures == 2
    assert health.last_error == "HTTP 500"
    assert pending_alerts(store.outbox, "slack") == []


def test_source_down_once_then_recovered_once(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    kinds = []
    for _ in range(5):
        clock.advance(hours=1)
        report = routed(store, SLACK).record_failure(
            "ulefnersen",
            "clinicaltrials",
            "timed out",
            started=clock(),
            at=clock(),
        )
        kinds += [c.kind for c in report.changes]
    assert kinds == [ChangeKind.SOURCE_DOWN]
    report = poll(store, clock, result(trial()))
    assert [c.kind for c in report.changes] == [ChangeKind.SOURCE_RECOVERED]
    report = poll(store, clock, result(trial()))
    assert report.changes == ()
    pending = pending_alerts(store.outbox, "slack")
    assert [a.change.kind for a in pending] == [ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED]
    assert "timed out" in (pending[0].change.detail or "")


def test_delivery_marked_sent_is_never_pending_again(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    poll(store, clock, result(trial(overall_status="SUSPENDED")))
    [alert] = pending_alerts(store.outbox, "slack")
    assert alert.delivery_id is not None
    fail_delivery(store, alert, clock(), "Slack said fatal_error")
    [again] = pending_alerts(store.outbox, "slack")
    assert again.attempts == 1 and again.last_error == "Slack said fatal_error"
    deliver(store, alert, clock(), ref="1503435956.000247")
    assert pending_alerts(store.outbox, "slack") == []
    status = store.status("ulefnersen")
    assert status.recent_alerts[0].change.key == "NCT04768972"


def test_permanent_failure_is_shown_in_status(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    poll(store, clock, result(trial(overall_status="SUSPENDED")))
    [alert] = pending_alerts(store.outbox, "slack")
    assert alert.delivery_id is not None
    fail_delivery(store, alert, clock(), "Slack said channel_not_found", permanent=True)
    assert pending_alerts(store.outbox, "slack") == []
    [failed] = store.status("ulefnersen").failed_deliveries
    assert failed.state is DeliveryState.FAILED
    assert failed.last_error == "Slack said channel_not_found"


def test_removed_then_back(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    report = poll(store, clock, result(gone=frozenset({"NCT04768972"})))
    assert [c.kind for c in report.changes] == [ChangeKind.REMOVED]
    assert store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"].removed_at is not None
    report = poll(store, clock, result(gone=frozenset({"NCT04768972"})))
    assert report.changes == ()
    report = poll(store, clock, result(trial()))
    assert [c.kind for c in report.changes] == [ChangeKind.NEW]


def test_alert_and_snapshot_commit_together(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """If writing the alert fails, the snapshot must not move either (one transaction)."""
    clock = Clock()
    poll(store, clock, result(trial()))

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("state.poll.write.add_alert", boom)
    with pytest.raises(RuntimeError):
        poll(store, clock, result(trial(overall_status="TERMINATED")))
    monkeypatch.undo()
    stored = store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.observation.fields["overall_status"] == "ACTIVE_NOT_RECRUITING"
    # The change is still detected on the next successful poll: nothing was lost.
    report = poll(store, clock, result(trial(overall_status="TERMINATED")))
    assert [c.kind for c in report.changes] == [ChangeKind.UPDATED]


def test_meta_is_kept_for_the_next_poll(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial(), meta={"data_timestamp": "2026-11-20T09:00:21"}))
    assert poll_meta(store, "ulefnersen", "clinicaltrials") == {
        "data_timestamp": "2026-11-20T09:00:21"
    }


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    s = Store.open(sqlite_url)
    with s.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    s.close()


def test_routes_are_the_stores_alone_no_poll_routes_around_them(store: Store) -> None:
    at, extra = Clock()(), {"destinations": {"console": None}}
    with pytest.raises(TypeError, match="destinations"):
        store.apply_poll(result(trial()), started=at, at=at, **extra)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="destinations"):
        store.record_failure("ulefnersen", "clinicaltrials", "503", started=at, at=at, **extra)  # type: ignore[arg-type]
    assert store.snapshot("ulefnersen", "clinicaltrials") == {}
