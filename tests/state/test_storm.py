"""Alert storms are held: more than max_per_poll alerts from one poll post one notice instead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from state.store import Store
from state.types import ChangeKind, DeliveryState, Severity
from tests.factories import Clock
from tests.state.helpers import pending_alerts, routed
from watchers.model import Observation, SourceResult, freeze_fields

CONSOLE: dict[str, str | None] = {"console": None}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url, max_per_poll=5)
    yield s
    s.close()


def item(n: int) -> Observation:
    return Observation(
        source="google_news",
        key=f"https://news.example/{n}",
        topic="ulefnersen",
        title=f"Story {n}: cohort{n} biomarker{n} dosing{n} sites{n}",
        url=f"https://news.example/{n}",
        fields=freeze_fields({"_authority": "news", "_outlet": "Wire", "_claim": None}),
    )


def poll(store: Store, clock: Clock, *items: Observation) -> list[ChangeKind]:
    clock.advance(hours=1)
    result = SourceResult("google_news", "ulefnersen", items)
    report = routed(store, CONSOLE).apply_poll(result, started=clock(), at=clock())
    return [change.kind for change in report.changes]


def waiting(store: Store) -> list[str]:
    return [alert.change.title for alert in pending_alerts(store.outbox, "console")]


def test_up_to_the_limit_alerts_are_posted_as_usual(store: Store) -> None:
    clock = Clock()
    poll(store, clock)  # baseline
    assert poll(store, clock, *(item(n) for n in range(5))) == [ChangeKind.NEW] * 5
    assert len(waiting(store)) == 5


def test_a_storm_is_stored_held_and_told_in_one_alert(store: Store) -> None:
    clock = Clock()
    poll(store, clock, item(0))  # baseline: never a storm, however big
    kinds = poll(store, clock, *(item(n) for n in range(1, 9)))
    assert kinds == [ChangeKind.NEW] * 8 + [ChangeKind.HELD]
    [notice] = waiting(store)
    assert notice == (
        "8 changes from Google News in one poll, held (often a source format change): "
        "see `trialwatch status`"
    )
    [alert] = pending_alerts(store.outbox, "console")
    assert 'trialwatch release "ulefnersen" "google_news"' in (alert.change.detail or "")
    assert alert.change.severity is Severity.NORMAL
    # Stored, listed in status, never posted until released.
    recent = store.status("ulefnersen", alerts=20).recent_alerts
    assert len(recent) == 9
    assert recent[0].change.kind is ChangeKind.HELD  # on top in `trialwatch status`
    assert store.release_held("ulefnersen", "google_news") == 8
    assert len(waiting(store)) == 9
    assert store.release_held("ulefnersen", "google_news") == 0  # released once


def test_dropped_alerts_stay_stored_and_are_never_posted(store: Store) -> None:
    clock = Clock()
    poll(store, clock)
    poll(store, clock, *(item(n) for n in range(8)))
    assert store.release_held("ulefnersen", "google_news", drop=True) == 8
    assert len(waiting(store)) == 1  # the notice only
    assert len(store.status("ulefnersen", alerts=20).recent_alerts) == 9
    assert store.release_held("ulefnersen", "google_news") == 0


def test_held_deliveries_read_as_held_in_the_digest(store: Store) -> None:
    clock = Clock()
    poll(store, clock)
    clock.advance(hours=1)
    result = SourceResult("google_news", "ulefnersen", tuple(item(n) for n in range(6)))
    routed(store, {"slack": "#x"}).apply_poll(result, started=clock(), at=clock())
    day = store.alerts_between(clock() - timedelta(hours=1), clock() + timedelta(hours=1))
    assert [a.state for a in day] == [DeliveryState.HELD] * 6 + [DeliveryState.PENDING]
