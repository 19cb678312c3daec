"""An unchanged poll is cheap: a lease-and-meta commit, one commit for its record, no snapshot.

Counted, not timed: SQLAlchemy events on the store's engine count transactions, commits and
every statement naming the snapshot table while `poll_once` runs a 304 (a feed) and an
unchanged ClinicalTrials.gov `/version` stamp, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import Engine, event

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import ChangeKind, PollOutcome
from tests.factories import T0, Clock, result, trial
from tests.state.helpers import routed, take
from watchers.ctgov.watcher import ClinicalTrialsWatcher
from watchers.feeds.watcher import FeedWatcher
from watchers.model import Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parents[1] / "fixtures"
FEED_URL = "https://www.fda.gov/press-releases.xml"
FEED = (FIXTURES / "feeds/fda_press_releases_ulefnersen_derived.xml").read_bytes()
CTGOV = "https://clinicaltrials.gov/api/v2"
FUSION = "NCT04768972"
# The /version shape (docs/sources.md#clinicaltrialsgov; SHAPE: the value is made up).
VERSION = {"apiVersion": "2.0.5", "dataTimestamp": "2026-10-14T09:00:21"}
TOPIC = Topic("ulefnersen", aliases=("ION363", "jacifusen"), trials=(FUSION,))
CONSOLE = {"console": None}
TTL = timedelta(minutes=15)


@dataclass
class DatabaseWork:
    """What one stretch of code asked of the database."""

    transactions: int = 0
    commits: int = 0
    statements: list[str] = field(default_factory=list)
    snapshot_statements: list[str] = field(default_factory=list)


@contextmanager
def counted(engine: Engine) -> Iterator[DatabaseWork]:
    work = DatabaseWork()

    def began(_connection: Any) -> None:
        work.transactions += 1

    def committed(_connection: Any) -> None:
        work.commits += 1

    def executing(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        work.statements.append(" ".join(statement.split()[:3]))
        if re.search(r"\bsnapshot\b", statement, re.IGNORECASE):
            work.snapshot_statements.append(statement)

    hooks = (("begin", began), ("commit", committed), ("before_cursor_execute", executing))
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield work
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture
def http() -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0)


def feed_answer(request: httpx.Request) -> httpx.Response:
    """The feed with its ETag; a bodiless 304 to a request that sends that ETag back."""
    headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml"}
    if request.headers.get("if-none-match") == '"v1"':
        return httpx.Response(304, headers=headers)
    return httpx.Response(200, content=FEED, headers=headers)


def registry(router: respx.MockRouter) -> None:
    """ClinicalTrials.gov with one listed study and an empty name search."""
    study = json.loads((FIXTURES / "ctgov/ctgov_study.json").read_text(encoding="utf-8"))
    router.get(f"{CTGOV}/version").respond(200, json=VERSION)
    router.get(f"{CTGOV}/studies", params={"filter.ids": FUSION}).respond(
        200, json={"studies": [study]}
    )
    router.get(f"{CTGOV}/studies").respond(200, json={"studies": [], "totalCount": 0})


def test_a_304_costs_two_commits_and_never_reads_the_snapshot(store: Store, http: Http) -> None:
    clock = Clock()
    watcher = FeedWatcher(http, "FDA", FEED_URL, "FDA", cache_seconds=0)
    with respx.mock() as router:
        route = router.get(FEED_URL).mock(side_effect=feed_answer)
        assert (
            poll_once(watcher, TOPIC, routed(store, CONSOLE), clock).outcome is PollOutcome.BASELINE
        )
        assert store.snapshot(TOPIC.name, watcher.source)  # there is a snapshot to not read
        clock.advance(hours=1)
        with counted(store.engine) as work:
            summary = poll_once(watcher, TOPIC, routed(store, CONSOLE), clock)
        assert route.calls.last.response.status_code == 304
    assert summary.outcome is PollOutcome.UNCHANGED
    # The lease taken with the poll meta (the ETag sent back), then the check recorded and the
    # lease given back together.
    assert (work.transactions, work.commits) == (2, 2)
    assert work.snapshot_statements == []
    # Three statements: the lease (RETURNING the meta); the check with the lease; its run row.
    assert work.statements == [
        "UPDATE poll_state SET",
        "UPDATE poll_state SET",
        "INSERT INTO poll_run",
    ]
    [health] = store.health(TOPIC.name)
    assert health.last_success == clock()  # "last checked" moved on
    assert take(store.poll_leases, TOPIC.name, watcher.source, owner="other", at=clock())


def test_an_unchanged_registry_stamp_costs_two_commits_and_one_request(
    store: Store, http: Http
) -> None:
    clock = Clock()
    watcher = ClinicalTrialsWatcher(http, base_url=CTGOV)
    with respx.mock() as router:
        registry(router)
        assert (
            poll_once(watcher, TOPIC, routed(store, CONSOLE), clock).outcome is PollOutcome.BASELINE
        )
        asked = len(router.calls)
        clock.advance(hours=1)
        with counted(store.engine) as work:
            summary = poll_once(watcher, TOPIC, routed(store, CONSOLE), clock)
        assert [c.request.url.path for c in router.calls][asked:] == ["/api/v2/version"]
    assert summary.outcome is PollOutcome.UNCHANGED
    assert (work.transactions, work.commits) == (2, 2)
    assert work.snapshot_statements == []
    assert list(store.snapshot(TOPIC.name, watcher.source)) == [FUSION]
    [health] = store.health(TOPIC.name)
    assert health.last_success == clock()


def test_a_failed_poll_also_commits_once_after_taking_its_lease(store: Store, http: Http) -> None:
    clock = Clock()
    watcher = FeedWatcher(http, "FDA", FEED_URL, "FDA", cache_seconds=0)
    with respx.mock() as router:
        router.get(FEED_URL).respond(404)
        with counted(store.engine) as work:
            summary = poll_once(watcher, TOPIC, routed(store, CONSOLE), clock)
    assert summary.outcome is PollOutcome.FAILED
    assert work.commits == 2  # the first poll INSERTs its lease; the failure and the release
    [health] = store.health(TOPIC.name)
    assert health.consecutive_failures == 1
    assert take(store.poll_leases, TOPIC.name, watcher.source, owner="other", at=clock())


def test_the_first_unchanged_poll_of_a_day_still_raises_a_results_clock_alert(
    store: Store,
) -> None:
    """Same day: nothing can move a clock, so the snapshot is not read; the next day it is."""
    due_in_31_days = T0 + timedelta(days=31)  # results due a year after actual completion
    done = f"{due_in_31_days.date().replace(year=T0.year - 1).isoformat()} (actual)"
    clock = Clock()
    routed(store, {}).apply_poll(
        result(trial(primary_completion_date=done)), started=clock(), at=clock()
    )
    unchanged = result(unchanged=True)
    clock.advance(hours=1)
    with counted(store.engine) as same_day:
        report = routed(store, CONSOLE).apply_poll(unchanged, started=clock(), at=clock())
    assert (report.outcome, report.changes, same_day.snapshot_statements) == (
        PollOutcome.UNCHANGED,
        (),
        [],
    )
    clock.advance(days=1)  # now 30 days before results are due
    report = routed(store, CONSOLE).apply_poll(unchanged, started=clock(), at=clock())
    [deadline] = report.changes
    assert deadline.kind is ChangeKind.DEADLINE
    assert deadline.detail is not None and "in 30 days" in deadline.detail


def test_a_source_back_after_an_outage_says_so_on_a_304(store: Store) -> None:
    clock = Clock()
    routed(store, {}).apply_poll(result(trial()), started=clock(), at=clock())
    for _ in range(store.failures_before_alert):
        clock.advance(hours=1)
        routed(store, {}).record_failure(
            TOPIC.name, "clinicaltrials", "HTTP 503", started=clock(), at=clock()
        )
    report = routed(store, CONSOLE).apply_poll(result(unchanged=True), started=clock(), at=clock())
    assert [c.kind for c in report.changes] == [ChangeKind.SOURCE_RECOVERED]


def test_a_poller_whose_lease_was_taken_over_stores_nothing(store: Store) -> None:
    """It ran past its lease unrenewed; another poller took the pair: only that one writes."""
    leases, clock = store.poll_leases, Clock()
    assert leases.take_with_meta(TOPIC.name, "clinicaltrials", owner="a", at=clock(), ttl=TTL) == {}
    late = clock.advance(minutes=16)
    assert take(leases, TOPIC.name, "clinicaltrials", owner="b", at=late, ttl=TTL)
    report = routed(store, CONSOLE).apply_poll(result(trial()), started=T0, at=late, owner="a")
    assert report.outcome is PollOutcome.SKIPPED
    assert store.snapshot(TOPIC.name, "clinicaltrials") == {}
    unchanged = routed(store, CONSOLE).apply_poll(
        result(unchanged=True), started=T0, at=late, owner="a"
    )
    assert unchanged.outcome is PollOutcome.SKIPPED
    assert store.health(TOPIC.name)[0].last_success is None
    failed = routed(store, {}).record_failure(
        TOPIC.name, "clinicaltrials", "timeout", started=T0, at=late, owner="a"
    )
    assert failed.outcome is PollOutcome.SKIPPED
    assert store.health(TOPIC.name)[0].consecutive_failures == 0
    assert not take(leases, TOPIC.name, "clinicaltrials", owner="c", at=late, ttl=TTL)  # b's
    # b's own poll stores its result and gives the lease back in that commit.
    report = routed(store, CONSOLE).apply_poll(result(trial()), started=late, at=late, owner="b")
    assert report.outcome is PollOutcome.BASELINE
    assert take(leases, TOPIC.name, "clinicaltrials", owner="c", at=late, ttl=TTL)


def test_the_lease_hands_over_the_poll_meta_it_was_taken_with(store: Store) -> None:
    clock, leases = Clock(), store.poll_leases
    meta = {"data_timestamp": "2026-10-14T09:00:21", "query": "abc"}
    assert leases.take_with_meta(TOPIC.name, "clinicaltrials", owner="a", at=clock()) == {}
    routed(store, {}).apply_poll(result(trial(), meta=meta), started=clock(), at=clock(), owner="a")
    assert leases.take_with_meta(TOPIC.name, "clinicaltrials", owner="b", at=clock()) == meta
    assert leases.take_with_meta(TOPIC.name, "clinicaltrials", owner="c", at=clock()) is None
    clock.advance(hours=1)  # an unchanged poll that brings no meta keeps the stored one
    report = routed(store, {}).apply_poll(
        result(unchanged=True), started=clock(), at=clock(), owner="b"
    )
    assert report.outcome is PollOutcome.UNCHANGED
    assert leases.take_with_meta(TOPIC.name, "clinicaltrials", owner="c", at=clock()) == meta
