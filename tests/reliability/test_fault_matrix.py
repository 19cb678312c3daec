"""The fault matrix: every source x every way a source can fail, through the real pipeline.

For each (source, fault): the real watcher, `bot.polling.pipeline.poll_once` and a real Store, with
every source served by respx on its own host. After a baseline, the faulted source misbehaves
for `failures_before_alert` polls while another source (the witness) changes, then recovers.
Each source's baseline is polled once per test process and copied for each of its faults.
Expected: no item alert from the faulted source, its snapshot untouched, its health recorded
(ONE "down" alert at the threshold, ONE "recovered"), the witness alerted exactly once, and no
re-alerts after recovery. "Zero items" is a valid answer: no alerts, nothing removed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Secrets, Settings
from bot.polling.pipeline import PollSummary, poll_once
from bot.polling.sources import build_watchers
from state.store import Store
from state.types import Alert, ChangeKind, PollOutcome
from tests.databases import SqliteTemplate
from tests.factories import T0, Clock
from tests.fakes.clock import FakeClock
from tests.reliability.sources import (
    TOPIC,
    CtGovSource,
    FakeSource,
    all_sources,
    make_http,
    serving,
)
from tests.state.helpers import pending_alerts, routed

CONSOLE = {"console": None}
THRESHOLD = 3
CAP = 64 * 1024  # every healthy fixture fits; the oversized body does not


def _raise(error: type[httpx.TransportError], message: str) -> Callable[..., httpx.Response]:
    def fault(_source: FakeSource, request: httpx.Request) -> httpx.Response:
        raise error(message, request=request)

    return fault


FAULTS: dict[str, Callable[[FakeSource, httpx.Request], httpx.Response]] = {
    "http_500": lambda s, r: httpx.Response(500, text="upstream connect error"),
    "http_503_retry_after": lambda s, r: httpx.Response(
        503, headers={"Retry-After": "7"}, text="Service Unavailable"
    ),
    "http_429": lambda s, r: httpx.Response(
        429, headers={"Retry-After": "3"}, json={"error": "API rate limit exceeded"}
    ),
    "timeout": _raise(httpx.ReadTimeout, "timed out"),
    "connection_refused": _raise(httpx.ConnectError, "[Errno 111] Connection refused"),
    "html_200": lambda s, r: httpx.Response(
        200,
        html="<!DOCTYPE html><html><head><title>Access Denied</title></head>"
        "<body><h1>Sorry, the page is temporarily unavailable</h1></body></html>",
    ),
    "truncated_xml": lambda s, r: httpx.Response(
        200,
        content=b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        b"<title>News</title><item><title>Ulefnersen approv",
        headers={"content-type": "application/rss+xml; charset=utf-8"},
    ),
    "invalid_json": lambda s, r: httpx.Response(
        200,
        content=b'{"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT0',
        headers={"content-type": "application/json"},
    ),
    "empty_200": lambda s, r: httpx.Response(200, content=b""),
    "zero_items": lambda s, r: s.respond(r, "zero_items"),
    "oversized": lambda s, r: httpx.Response(
        200,
        content=b'{"padding": "' + b"x" * CAP + b'"}',
        headers={"content-type": "application/json"},
    ),
}


def data_timestamp(clock: Clock) -> Callable[[], str]:
    """A registry that refreshed an hour before each poll: fresh, and never 'unchanged'."""
    return lambda: (clock() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")


class Harness:
    """Fake sources, their real watchers, one store, one clock: polls like `check` does."""

    def __init__(
        self,
        store: Store,
        client: httpx.Client,
        names: list[str] | None = None,
        start: datetime = T0,
    ) -> None:
        self.store = store
        self.clock = Clock(start)
        self.time = FakeClock(0.0)
        self.sources = [fake for fake in all_sources() if names is None or fake.source in names]
        for fake in self.sources:
            if isinstance(fake, CtGovSource):
                fake.data_timestamp = data_timestamp(self.clock)
        http = make_http(client, self.time, max_body_bytes=CAP)
        self.watchers = {fake.source: fake.watcher(http) for fake in self.sources}

    def source(self, name: str) -> FakeSource:
        return next(fake for fake in self.sources if fake.source == name)

    def poll_round(self) -> dict[str, PollSummary]:
        self.clock.advance(hours=1)
        summaries = {}
        for fake in self.sources:
            fake.new_poll()
            watcher = self.watchers[fake.source]
            summaries[fake.source] = poll_once(
                watcher, TOPIC, routed(self.store, CONSOLE), self.clock
            )
        return summaries

    def alerts(self, source: str | None = None) -> list[Alert]:
        alerts = pending_alerts(self.store.outbox, "console", limit=10_000)
        return [a for a in alerts if source is None or a.change.source == source]

    def view(self, source: str) -> dict[str, Any]:
        """What a person could be told about: records, removals, when each last changed."""
        return {
            key: (s.observation, s.removed_at, s.last_changed, s.field_changed_at)
            for key, s in self.store.snapshot(TOPIC.name, source).items()
        }


def kinds(alerts: list[Alert]) -> list[ChangeKind]:
    return [a.change.kind for a in alerts]


def baseline(harness: Harness) -> None:
    for summary in harness.poll_round().values():
        assert summary.outcome is PollOutcome.BASELINE, summary
    for summary in harness.poll_round().values():
        assert summary.outcome in (PollOutcome.OK, PollOutcome.UNCHANGED), summary
    assert harness.alerts() == []
    for fake in harness.sources:  # a source with nothing stored would make the case vacuous
        assert harness.view(fake.source), fake.source


SOURCES = [fake.source for fake in all_sources()]


def neighbours(source: str) -> list[str]:
    """`source` and the next two sources, polled alongside it (one of them is the witness)."""
    index = SOURCES.index(source)
    return [SOURCES[(index + step) % len(SOURCES)] for step in range(3)]


class Baselines:
    """Each source's baseline database (two healthy rounds with its neighbours), polled once
    per test process: every fault of a source starts from a copy of the same stored state."""

    def __init__(self, folder: Path, template: SqliteTemplate) -> None:
        self.folder, self.template = folder, template
        self.made: dict[str, tuple[Path, datetime]] = {}

    def copy_to(self, source: str, target: Path) -> tuple[str, datetime]:
        """A SQLite database at `target` holding `source`'s baseline: its URL, and the time
        the baseline's last poll left the clock at."""
        if source not in self.made:
            path = self.folder / f"{source.replace(':', '_')}.db"
            store = Store.open(self.template.copy_to(path), failures_before_alert=THRESHOLD)
            try:  # the assertions of baseline() run here, once per source
                with httpx.Client() as client:
                    harness = Harness(store, client, neighbours(source))
                    with serving(harness.sources):
                        baseline(harness)
            finally:
                store.close()  # checkpoints the WAL into the file
            self.made[source] = (path, harness.clock())
        path, at = self.made[source]
        shutil.copyfile(path, target)
        return f"sqlite:///{target}", at


@pytest.fixture(scope="session")
def baselines(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: SqliteTemplate
) -> Baselines:
    return Baselines(tmp_path_factory.mktemp("fault-matrix-baselines"), sqlite_template)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("source", SOURCES)
def test_fault_changes_nothing_but_health(
    baselines: Baselines, tmp_path: Path, source: str, fault: str
) -> None:
    # SQLite only: the faults are the sources'; the store suite covers both databases.
    url, baseline_done = baselines.copy_to(source, tmp_path / "trialwatch.db")
    store = Store.open(url, failures_before_alert=THRESHOLD)
    try:
        with httpx.Client() as client:
            harness = Harness(store, client, neighbours(source), start=baseline_done)
            with serving(harness.sources):
                _run_matrix_case(harness, source, fault)
    finally:
        store.close()


def _run_matrix_case(harness: Harness, source: str, fault: str) -> None:
    faulted = harness.source(source)
    others = [fake for fake in harness.sources if fake is not faulted]
    assert others, "a fault must be seen next to sources that keep working"
    witness = others[0]
    before = harness.view(source)
    expect_failure = fault != "zero_items" or faulted.zero_items_fails

    faulted.fault = FAULTS[fault]
    witness.variant = "changed"
    for attempt in range(1, THRESHOLD + 1):
        summaries = harness.poll_round()
        outcome = summaries[source]
        if expect_failure:
            assert outcome.outcome is PollOutcome.FAILED
            assert outcome.error
            # A source's misbehaviour is a handled SourceError, never a crash in a watcher.
            assert not outcome.error.startswith("internal error"), outcome.error
            [health] = [h for h in harness.store.health(TOPIC.name) if h.source == source]
            assert health.consecutive_failures == attempt
            assert health.last_error == outcome.error
            assert health.last_failure == harness.clock()
        else:
            assert outcome.outcome in (PollOutcome.OK, PollOutcome.UNCHANGED), outcome
        for other in others:  # the other sources are untouched by this one's fault
            assert summaries[other.source].outcome is not PollOutcome.FAILED, summaries
        assert harness.view(source) == before
    item_alerts = [a for a in harness.alerts(source) if a.change.kind not in _HEALTH]
    assert item_alerts == []
    assert kinds(harness.alerts(source)) == ([ChangeKind.SOURCE_DOWN] if expect_failure else [])
    witnessed = harness.alerts(witness.source)
    assert [(a.change.kind, a.created_at) for a in witnessed] == [
        (witnessed[0].change.kind, witnessed[0].created_at)
    ], "the witness's change is alerted exactly once, in the first faulty round"
    assert witnessed[0].change.kind in (ChangeKind.NEW, ChangeKind.UPDATED)
    if fault == "http_503_retry_after":
        assert 7.0 in harness.time.sleeps  # Retry-After honoured (on a fake clock)
    if fault == "http_429":
        assert 3.0 in harness.time.sleeps

    faulted.fault = None
    for _ in range(2):
        summaries = harness.poll_round()
        assert all(s.outcome is not PollOutcome.FAILED for s in summaries.values()), summaries
    assert harness.view(source) == before  # no re-alerts, no "removed", no "new" flood
    expected = [ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED] if expect_failure else []
    assert kinds(harness.alerts(source)) == expected
    assert len(harness.alerts(witness.source)) == 1
    [health] = [h for h in harness.store.health(TOPIC.name) if h.source == source]
    assert health.consecutive_failures == 0
    assert health.last_error is None
    assert health.last_success == harness.clock()


_HEALTH = (ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED)


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "zero_items"])
def test_a_fault_late_in_a_multi_request_poll_stores_nothing_partial(
    sqlite_url: str, fault: str
) -> None:
    """ClinicalTrials.gov answers the first requests of a poll, then fails: no half result."""
    store = Store.open(sqlite_url, failures_before_alert=THRESHOLD)
    try:
        with httpx.Client() as client:
            harness = Harness(store, client, ["clinicaltrials", "openfda"])
            with serving(harness.sources):
                baseline(harness)
                ctgov = harness.source("clinicaltrials")
                before = harness.view("clinicaltrials")
                ctgov.variant = "changed"  # the first requests already show the change
                ctgov.fault = FAULTS[fault]
                ctgov.fault_from = ctgov.requests_per_poll - 1
                summary = harness.poll_round()["clinicaltrials"]
                assert summary.outcome is PollOutcome.FAILED
                assert harness.view("clinicaltrials") == before
                assert harness.alerts() == []
                ctgov.fault = None  # back, still changed: the change is alerted once
                harness.poll_round()
                harness.poll_round()
                assert kinds(harness.alerts()) == [ChangeKind.UPDATED]
    finally:
        store.close()


def test_every_registered_source_is_in_the_matrix() -> None:
    """A new watcher registered in watchers/registry.py must be added to the fault matrix."""
    settings = Settings.model_validate(
        {
            "topics": [{"name": "ulefnersen"}],
            "sources": {
                "clinicaltrials": {},
                "openfda": {},
                "google_news": {},
                "pubmed": {},
                "ema_medicines": {},
                "feeds": [{"name": "FDA press releases", "url": "https://fda.test/rss.xml"}],
                "ctis": {},
                "federal_register": {},
                "sec_edgar": {"contact": "Trialwatch Tests ops@pharma.test"},
                "medrxiv": {},
            },
        }
    )
    with httpx.Client() as client:
        http = make_http(client, FakeClock(0.0), max_body_bytes=CAP)
        built = {w.source.partition(":")[0] for w in build_watchers(settings, Secrets(), http)}
    covered = {name.partition(":")[0] for name in SOURCES}
    assert built - covered == set(), "add these sources to tests/reliability/sources.py"
