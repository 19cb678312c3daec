"""Source health: ONE down alert per outage, ONE recovered, nothing between; stale sources."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.polling.pipeline import poll_once
from state.staleness import stale_note
from state.store import Store
from state.types import ChangeKind
from tests.factories import Clock, result, trial
from tests.fakes.clock import FakeClock
from tests.reliability.sources import TOPIC, CtGovSource, make_http, serving
from tests.state.helpers import pending_alerts, routed
from watchers.model import FetchError, Observation, SourceResult, Topic

CONSOLE = {"console": None}
TOPICS = (Topic("ulefnersen", aliases=("ION363",)), Topic("tofersen", aliases=("QALSODY",)))


class ScriptedWatcher:
    """Answers per topic as its script says, one character per poll: '.' ok, 'x' a failure."""

    def __init__(self, source: str, scripts: Mapping[str, str]) -> None:
        self.source = source
        self._steps = {topic: iter(script) for topic, script in scripts.items()}

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        if next(self._steps[topic.name]) == "x":
            raise FetchError(f"{self.source} answered HTTP 503 for {topic.name}")
        item = Observation(
            self.source, f"{topic.name}-1", topic.name, "A record", "https://x.test/1"
        )
        return SourceResult(self.source, topic.name, (item,))


# Round by round; with a threshold of 3 a source is down at its 3rd failure in a row.
SCRIPTS = {
    ("ulefnersen", "clinicaltrials"): ".xxxxx..xx.xxx.",
    ("tofersen", "clinicaltrials"): "...............",
    ("ulefnersen", "openfda"): ".xx.xx.xx.xx.x.",
    ("tofersen", "openfda"): ".xxx...........",
}
EXPECTED = {
    ("ulefnersen", "clinicaltrials"): [
        (ChangeKind.SOURCE_DOWN, 3),
        (ChangeKind.SOURCE_RECOVERED, 6),
        (ChangeKind.SOURCE_DOWN, 13),
        (ChangeKind.SOURCE_RECOVERED, 14),
    ],
    ("tofersen", "clinicaltrials"): [],
    ("ulefnersen", "openfda"): [],  # never three in a row: no alert at all
    ("tofersen", "openfda"): [(ChangeKind.SOURCE_DOWN, 3), (ChangeKind.SOURCE_RECOVERED, 4)],
}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url, failures_before_alert=3)
    yield s
    s.close()


def test_one_down_and_one_recovered_alert_per_outage_across_topics(store: Store) -> None:
    clock = Clock()
    watchers = [
        ScriptedWatcher(source, {t: s for (t, src), s in SCRIPTS.items() if src == source})
        for source in ("clinicaltrials", "openfda")
    ]
    start = clock()
    rounds = len(SCRIPTS["ulefnersen", "clinicaltrials"])
    for _ in range(rounds):
        for topic in TOPICS:
            for watcher in watchers:
                poll_once(watcher, topic, routed(store, CONSOLE), clock)
        clock.advance(hours=1)

    def round_of(moment: datetime) -> int:
        return int((moment - start) / timedelta(hours=1))

    seen: dict[tuple[str, str], list[tuple[ChangeKind, int]]] = {key: [] for key in SCRIPTS}
    alerts = pending_alerts(store.outbox, "console", limit=1000)
    for alert in alerts:
        change = alert.change
        seen[change.topic, change.source].append((change.kind, round_of(alert.created_at)))
    assert seen == EXPECTED

    first_down = next(a for a in alerts if a.change.topic == "ulefnersen")
    assert first_down.change.title == "ClinicalTrials.gov is not answering (3 failed polls)"
    # The zone suffix differs by backend (SQLite drops it): compare the moment itself.
    since = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert f"Failing since {since}" in (first_down.change.detail or "")
    assert "answered HTTP 503 for ulefnersen" in (first_down.change.detail or "")


def test_down_since_is_shown_while_down_and_cleared_after(store: Store) -> None:
    clock = Clock()
    watcher = ScriptedWatcher("clinicaltrials", {"ulefnersen": ".xxx."})
    moments = []
    for _ in range(4):
        clock.advance(hours=1)
        moments.append(clock())
        poll_once(watcher, TOPICS[0], routed(store, CONSOLE), clock)
    [health] = store.health("ulefnersen")
    assert health.down_since == moments[1]
    assert health.consecutive_failures == 3
    assert health.last_success == moments[0]
    clock.advance(hours=1)
    poll_once(watcher, TOPICS[0], routed(store, CONSOLE), clock)
    [health] = store.health("ulefnersen")
    assert (health.down_since, health.consecutive_failures, health.last_error) == (None, 0, None)


CHECKED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "meta", "stale"),
    [
        ("clinicaltrials", {"data_timestamp": "2026-11-02T09:00:21"}, False),
        ("clinicaltrials", {"data_timestamp": "2026-10-30T12:00:00"}, False),  # exactly 3 days
        ("clinicaltrials", {"data_timestamp": "2026-10-30T11:59:59"}, True),
        ("clinicaltrials", {"data_timestamp": "2026-10-14T09:00:21"}, True),
        ("clinicaltrials", {"data_timestamp": "2026-10-14T09:00:21Z"}, True),
        ("clinicaltrials", {}, False),  # no probe yet: nothing to say
        ("clinicaltrials", {"data_timestamp": "yesterday"}, False),
        ("openfda", {"data_timestamp": "2026-10-14T09:00:21"}, False),  # no rule for openFDA
    ],
    ids=["fresh", "3-days", "just-over", "weeks", "zulu", "no-meta", "garbage", "other-source"],
)
def test_stale_note(source: str, meta: dict[str, str], stale: bool) -> None:
    assert (stale_note(source, meta, CHECKED) is not None) is stale


def test_stale_note_says_when_the_data_was_refreshed() -> None:
    note = stale_note("clinicaltrials", {"data_timestamp": "2026-10-28T09:00:00"}, CHECKED)
    assert note == (
        "data last refreshed 2026-10-28 09:00 UTC, 5.1 days before the last successful check "
        "(expected within 3 days)"
    )


def test_store_reports_a_stale_registry_from_the_stored_poll_meta(store: Store) -> None:
    clock = Clock()  # 2026-11-01 08:00 UTC
    fresh = {"data_timestamp": "2026-10-31T09:00:00"}
    routed(store, {}).apply_poll(result(trial(), meta=fresh), started=clock(), at=clock())
    [health] = store.health("ulefnersen")
    assert health.stale is None
    clock.advance(days=4)  # the registry stopped refreshing but still answers
    routed(store, {}).apply_poll(result(trial(), meta=fresh), started=clock(), at=clock())
    [health] = store.health("ulefnersen")
    assert health.stale is not None
    assert "data last refreshed 2026-10-31 09:00 UTC" in health.stale
    assert store.status("ulefnersen").health == (health,)
    clock.advance(hours=1)  # it refreshes: no longer stale
    new = {"data_timestamp": "2026-11-05T07:00:00"}
    routed(store, {}).apply_poll(result(trial(), meta=new), started=clock(), at=clock())
    [health] = store.health("ulefnersen")
    assert health.stale is None


def test_status_command_shows_a_stale_source(tmp_path: Path, sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    clock = Clock()
    old = {"data_timestamp": "2026-10-20T09:00:00"}
    routed(store, {}).apply_poll(result(trial(), meta=old), started=clock(), at=clock())
    store.close()
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{sqlite_url}"\n[[topics]]\nname = "ulefnersen"\n'
        'trials = ["NCT04768972"]\n[sources.clinicaltrials]\n'
    )
    out = CliRunner().invoke(app, ["status", "ulefnersen", "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert (
        "ClinicalTrials.gov: ok, last success 2026-11-01 08:00 UTC; STALE: data last refreshed "
        "2026-10-20 09:00 UTC, 12.0 days before the last successful check" in out.output
    )


def test_a_registry_that_stopped_refreshing_is_reported_stale(store: Store) -> None:
    """The real watcher's /version probe keeps dataTimestamp where the staleness rule reads it."""
    ctgov = CtGovSource(data_timestamp=lambda: "2026-10-27T09:00:21")
    clock = Clock()  # 2026-11-01 08:00 UTC: the data is almost 5 days old
    with serving([ctgov]), httpx.Client() as client:
        watcher = ctgov.watcher(make_http(client, FakeClock(0.0), max_body_bytes=1 << 20))
        poll_once(watcher, TOPIC, routed(store, CONSOLE), clock)
        [health] = store.health(TOPIC.name)
        assert health.consecutive_failures == 0
        assert health.stale is not None
        assert health.stale.startswith("data last refreshed 2026-10-27 09:00 UTC")
        ctgov.data_timestamp = lambda: "2026-11-01T06:00:00"  # it refreshes
        clock.advance(hours=1)
        poll_once(watcher, TOPIC, routed(store, CONSOLE), clock)
        [health] = store.health(TOPIC.name)
        assert health.stale is None
