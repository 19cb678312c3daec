"""Text a database or a target refuses (NUL, lone surrogates) never breaks a source.

One `\\u0000` in a ClinicalTrials.gov title used to fail every poll on PostgreSQL, raise a
false "not answering" alert after three, and hide the real change in the same answer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import respx

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import ChangeKind, PollOutcome, Severity
from tests.factories import Clock
from tests.fakes.clock import FakeClock
from tests.state.helpers import pending_alerts, routed
from watchers.ctgov.watcher import ClinicalTrialsWatcher
from watchers.model import FetchError, Observation, SourceResult, Topic
from watchers.net.http import Http

BASE = "https://ctgov.test/api/v2"
STUDY = json.loads(
    (Path(__file__).parents[1] / "fixtures/ctgov/ctgov_study.json").read_text("utf-8")
)
TOPIC = Topic("ulefnersen", aliases=("ION363", "jacifusen"), trials=("NCT04768972",))
CONSOLE = {"console": None}
BAD = "\x00\ud800"  # what PostgreSQL refuses, what UTF-8 (psycopg, httpx) cannot encode


def _completed_with_a_nul_title() -> dict[str, Any]:
    study = copy.deepcopy(STUDY)
    protocol = study["protocolSection"]
    protocol["statusModule"]["overallStatus"] = "COMPLETED"
    ident = protocol["identificationModule"]
    ident["briefTitle"] = "FUSION\u0000 trial of ulefnersen\ud83d"
    return study


def test_a_nul_in_a_title_fails_no_poll_and_the_real_change_is_alerted(db_url: str) -> None:
    answers = [STUDY, *[_completed_with_a_nul_title()] * 3]
    store = Store.open(db_url, failures_before_alert=3)
    clock, time = Clock(), FakeClock()
    poll = iter(range(len(answers)))
    current: list[dict[str, Any]] = []

    def version(request: httpx.Request) -> httpx.Response:
        n = next(poll)
        current[:] = [answers[n]]
        return httpx.Response(200, json={"dataTimestamp": f"2026-11-0{n + 1}T06:00:00"})

    try:
        with httpx.Client() as client, respx.mock() as router:
            router.get(f"{BASE}/version").mock(side_effect=version)
            router.get(f"{BASE}/studies").mock(
                side_effect=lambda _: httpx.Response(
                    200,  # escaped JSON (`\\u0000`, `\\ud83d`), as the registry sends it
                    content=json.dumps({"studies": current}),
                    headers={"content-type": "application/json"},
                )
            )
            http = Http(client, min_interval=0.0, sleep=time.sleep, monotonic=time.monotonic)
            watcher = ClinicalTrialsWatcher(http, base_url=BASE)
            summaries = []
            for _ in answers:
                clock.advance(hours=1)
                summaries.append(poll_once(watcher, TOPIC, routed(store, CONSOLE), clock))
        assert [s.outcome for s in summaries] == [
            PollOutcome.BASELINE,
            PollOutcome.OK,
            PollOutcome.OK,
            PollOutcome.OK,
        ]
        alerts = pending_alerts(store.outbox, "console")
        kinds = [a.change.kind for a in alerts]
        assert ChangeKind.SOURCE_DOWN not in kinds
        [status] = [
            a
            for a in alerts
            for f in a.change.field_changes
            if f.field == "overall_status" and f.after == "COMPLETED"
        ]
        assert status.change.severity is Severity.HIGH
        [stored] = store.snapshot(TOPIC.name, "clinicaltrials").values()
        assert stored.observation.title == "FUSION trial of ulefnersen\ufffd"
    finally:
        store.close()


class _BadTextWatcher:
    """A source whose every text (nested fields, meta, then its error) holds refused characters."""

    source = "news"

    def __init__(self) -> None:
        self.polls = 0
        self.metas: list[Mapping[str, str]] = []

    def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
        self.metas.append(dict(meta))
        self.polls += 1
        if self.polls > 1:
            raise FetchError(f"news.test answered HTTP 500: {BAD}")
        fields: dict[str, Any] = {
            "authors": (f"A{BAD}", "B"),
            "extra": [f"x{BAD}", {"k": f"v{BAD}"}],
        }
        item = Observation(self.source, f"k{BAD}", topic.name, f"T{BAD}", f"u{BAD}", fields)
        return SourceResult(self.source, topic.name, (item,), meta={"etag": f"W/{BAD}"})


def test_nested_fields_meta_and_errors_are_stored_cleaned(db_url: str) -> None:
    store = Store.open(db_url)
    clock, watcher = Clock(), _BadTextWatcher()
    try:
        outcomes = []
        for _ in range(3):
            clock.advance(hours=1)
            outcomes.append(poll_once(watcher, TOPIC, routed(store, CONSOLE), clock).outcome)
        assert outcomes == [PollOutcome.BASELINE, PollOutcome.FAILED, PollOutcome.FAILED]
        [stored] = store.snapshot(TOPIC.name, "news").values()
        item = stored.observation
        assert (item.key, item.title, item.url) == ("k\ufffd", "T\ufffd", "u\ufffd")
        assert item.fields["authors"] == ("A\ufffd", "B")
        assert watcher.metas[1] == {"etag": "W/\ufffd"}  # sent back as a header next poll
        [health] = store.health(TOPIC.name)
        assert health.consecutive_failures == 2
        assert health.last_error == "news.test answered HTTP 500: \ufffd"
    finally:
        store.close()
