"""Retention: old poll runs and long-gone feed items are pruned; alerts and deliveries never."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from bot.app import open_app
from bot.config import load_settings
from state.schema import AlertRow, DeliveryRow, PollRunRow, SnapshotRow
from state.store import Store, is_event_source
from state.types import ChangeKind
from tests.factories import Clock, deliver, result, trial
from tests.state.helpers import pending_alerts, routed
from watchers.model import Observation, SourceResult

CONSOLE = {"console": None}
FEED = "feed:FDA press releases"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url, failures_before_alert=3, retention_days=7)
    yield s
    s.close()


def count(store: Store, table: type[SQLModel]) -> int:
    with Session(store.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def item(key: str) -> Observation:
    return Observation(FEED, key, "ulefnersen", f"Headline {key}", f"https://fda.test/{key}")


def feed(*keys: str, unchanged: bool = False) -> SourceResult:
    return SourceResult(FEED, "ulefnersen", tuple(map(item, keys)), unchanged=unchanged)


def poll(store: Store, clock: Clock, res: SourceResult) -> list[ChangeKind]:
    report = routed(store, CONSOLE).apply_poll(res, started=clock(), at=clock())
    return [c.kind for c in report.changes]


def fail(store: Store, clock: Clock, source: str = FEED) -> None:
    routed(store, CONSOLE).record_failure(
        "ulefnersen", source, "HTTP 503", started=clock(), at=clock()
    )


@pytest.mark.parametrize(
    ("source", "event"),
    [
        ("feed:EMA news", True),
        ("google_news", True),
        ("pubmed", True),
        ("clinicaltrials", False),
        ("openfda", False),
        ("ema_medicines", False),
    ],
)
def test_event_sources(source: str, event: bool) -> None:
    assert is_event_source(source) is event


def test_old_poll_runs_go_and_alerts_and_deliveries_stay(store: Store) -> None:
    clock = Clock()
    poll(store, clock, result(trial()))
    clock.advance(days=1)
    assert poll(store, clock, result(trial(overall_status="SUSPENDED"))) == [ChangeKind.UPDATED]
    [alert] = pending_alerts(store.outbox, "console")
    assert alert.delivery_id is not None
    deliver(store, alert, clock())
    for _ in range(3):
        clock.advance(days=1)
        fail(store, clock, "clinicaltrials")  # the third failure posts "source down"
    clock.advance(days=6)
    poll(store, clock, result(trial(overall_status="SUSPENDED")))  # recovered
    assert count(store, PollRunRow) == 6
    alerts, deliveries = count(store, AlertRow), count(store, DeliveryRow)
    assert (alerts, deliveries) == (3, 3)

    report = store.prune(clock())
    # Kept: the runs of the last 7 days (the failures 7 and 6 days ago, and today's poll).
    assert report.poll_runs == 3
    assert count(store, PollRunRow) == 3
    assert (count(store, AlertRow), count(store, DeliveryRow)) == (alerts, deliveries)
    assert (
        pending_alerts(store.outbox, "console") != []
    )  # the down/recovered alerts are still to deliver
    kinds = [a.change.kind for a in store.status("ulefnersen", alerts=10).recent_alerts]
    assert ChangeKind.UPDATED in kinds
    # Trials are state, not events: a trial not seen for weeks is kept.
    assert set(store.snapshot("ulefnersen", "clinicaltrials")) == {"NCT04768972"}


def test_feed_items_that_dropped_out_are_pruned_after_the_retention(store: Store) -> None:
    clock = Clock()
    poll(store, clock, feed("a"))
    clock.advance(days=1)
    assert poll(store, clock, feed("a", "b", "c")) == [ChangeKind.NEW, ChangeKind.NEW]
    clock.advance(days=7, hours=12)
    assert poll(store, clock, feed("c", "d")) == [ChangeKind.NEW]
    # A trial search that stopped finding a study long ago: its row is kept.
    poll(store, clock, result(trial(), trial("NCT01111111")))
    clock.advance(days=1)
    poll(store, clock, result(trial()))

    report = store.prune(clock())
    assert report.snapshot_rows == 1
    # b is gone; a stays although it dropped out as long ago: it was never alerted (baseline),
    # so only its snapshot row stops it from being alerted as new if the feed serves it again.
    assert set(store.snapshot("ulefnersen", FEED)) == {"a", "c", "d"}
    assert set(store.snapshot("ulefnersen", "clinicaltrials")) == {"NCT01111111", "NCT04768972"}
    assert count(store, AlertRow) == 3


def test_a_feed_down_longer_than_the_retention_keeps_its_items(store: Store) -> None:
    """Otherwise the feed's return would look like a flood of new items."""
    clock = Clock()
    poll(store, clock, feed("a", "b"))
    for _ in range(20):
        clock.advance(days=1)
        fail(store, clock)
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"a", "b"}
    clock.advance(hours=1)
    assert poll(store, clock, feed("a", "b")) == [ChangeKind.SOURCE_RECOVERED]


def test_not_modified_answers_keep_the_items(store: Store) -> None:
    """A feed answering 304 for weeks still has the items it last served."""
    clock = Clock()
    poll(store, clock, feed("a", "b"))
    for _ in range(20):
        clock.advance(days=1)
        poll(store, clock, feed(unchanged=True))
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"a", "b"}
    clock.advance(hours=1)
    assert poll(store, clock, feed("a", "b", "c")) == [ChangeKind.NEW]


def test_an_empty_answer_keeps_the_last_items(store: Store) -> None:
    """A feed that answers with zero items (FDA's "silent feed") does not age its items out."""
    clock = Clock()
    poll(store, clock, feed("a", "b"))
    for _ in range(10):
        clock.advance(days=1)
        poll(store, clock, feed())
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"a", "b"}
    assert poll(store, clock, feed("a", "b")) == []


def test_removed_event_items_are_pruned(store: Store) -> None:
    clock = Clock()
    poll(store, clock, feed("x"))
    clock.advance(hours=1)
    assert poll(store, clock, feed("x", "a")) == [ChangeKind.NEW]
    clock.advance(hours=1)
    gone = SourceResult(FEED, "ulefnersen", (item("x"),), gone=frozenset({"a"}))
    assert poll(store, clock, gone) == [ChangeKind.REMOVED]
    clock.advance(days=8)
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"x"}  # x was in the latest poll


def test_a_pruned_item_served_again_is_not_alerted_again(store: Store) -> None:
    clock = Clock()
    poll(store, clock, feed("a"))
    clock.advance(hours=1)
    assert poll(store, clock, feed("a", "b")) == [ChangeKind.NEW]
    clock.advance(hours=1)
    poll(store, clock, feed("a"))  # b drops out of the feed
    clock.advance(days=8)
    poll(store, clock, feed("a"))
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"a"}
    clock.advance(hours=1)
    assert poll(store, clock, feed("a", "b")) == []  # b is back: already alerted once


def test_a_baseline_item_is_kept_so_its_return_is_not_alerted(store: Store) -> None:
    """It has no alert to be recognised by, so its snapshot row is what remembers it."""
    clock = Clock()
    poll(store, clock, feed("a", "b"))  # the baseline: no alerts
    clock.advance(hours=1)
    poll(store, clock, feed("a"))  # b drops out of the feed
    clock.advance(days=8)
    poll(store, clock, feed("a"))
    store.prune(clock())
    assert set(store.snapshot("ulefnersen", FEED)) == {"a", "b"}
    clock.advance(hours=1)
    assert poll(store, clock, feed("a", "b")) == []


def test_check_prunes_once_per_run(tmp_path: Path, sqlite_url: str) -> None:
    clock = Clock()
    store = Store.open(sqlite_url)
    poll(store, clock, result(trial()))
    clock.advance(days=40)
    poll(store, clock, result(trial()))
    store.close()
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{sqlite_url}"\nretention_days = 30\n[[topics]]\nname = "ulefnersen"\n'
    )
    loaded = load_settings(str(config), env={})
    with open_app(loaded, clock=clock, write=lambda _text: None) as application:
        application.check()
        assert count(application.store, PollRunRow) == 1
        with Session(application.store.engine) as session:
            assert session.exec(select(SnapshotRow.key)).all() == ["NCT04768972"]
