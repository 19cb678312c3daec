"""A field whose JSON type changes is not a field that vanished (ClinicalTrials.gov).

The registry's study (tests/fixtures/ctgov/ctgov_study.json) comes back with a field in
another JSON type: unambiguous ones (`"95"` for a count) read as before and alert nothing;
ambiguous ones (`overallStatus: 7`) fail the poll as a parse error, recorded as health, with
the snapshot untouched; when the type returns, nothing alerts either.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bot.polling.pipeline import poll_once
from state.store import Store
from state.types import PollOutcome
from tests.factories import Clock
from tests.fakes.clock import FakeClock
from tests.state.helpers import pending_alerts, routed
from watchers.ctgov.watcher import ClinicalTrialsWatcher, parse_study
from watchers.model import ParseError, Topic
from watchers.net.http import Http

BASE = "https://ctgov.test/api/v2"
STUDY = json.loads(
    (Path(__file__).parents[1] / "fixtures/ctgov/ctgov_study.json").read_text("utf-8")
)
TOPIC = Topic("ulefnersen", aliases=("ION363", "jacifusen"), trials=("NCT04768972",))
CONSOLE = {"console": None}

Edit = Callable[[dict[str, Any]], None]


def _protocol(study: dict[str, Any]) -> dict[str, Any]:
    protocol: dict[str, Any] = study["protocolSection"]
    return protocol


def _set(module: str, field: str, value: Any) -> Edit:
    def edit(study: dict[str, Any]) -> None:
        _protocol(study)[module][field] = value

    return edit


def _count(value: Any) -> Edit:
    def edit(study: dict[str, Any]) -> None:
        _protocol(study)["designModule"]["enrollmentInfo"]["count"] = value

    return edit


def _has_results(value: Any) -> Edit:
    def edit(study: dict[str, Any]) -> None:
        study["hasResults"] = value

    return edit


COERCED: dict[str, Edit] = {
    "count as a string": _count("95"),
    "count as a float": _count(95.0),
    "phases as one string": _set("designModule", "phases", "PHASE3"),
    "hasResults as a string": _has_results("false"),
}
REFUSED: dict[str, tuple[Edit, str]] = {
    "status as a number": (_set("statusModule", "overallStatus", 7), "overallStatus is int 7"),
    "count in words": (_count("about 95"), "enrollmentInfo.count is str 'about 95'"),
    "count as a boolean": (_count(True), "enrollmentInfo.count is bool"),
    "status module as a list": (
        lambda s: _protocol(s).__setitem__("statusModule", []),
        "statusModule is list",
    ),
    "phases as an object of objects": (
        _set("designModule", "phases", [{"phase": "PHASE3"}]),
        "phases[] is dict",
    ),
    "hasResults as a number": (_has_results(1), "hasResults is int 1"),
}


def edited(edit: Edit) -> dict[str, Any]:
    study = copy.deepcopy(STUDY)
    edit(study)
    return study


@pytest.mark.parametrize("edit", COERCED.values(), ids=COERCED.keys())
def test_unambiguous_type_changes_read_as_before(edit: Edit) -> None:
    before = parse_study(STUDY, TOPIC, by_id=True)
    assert parse_study(edited(edit), TOPIC, by_id=True).fields == before.fields


@pytest.mark.parametrize(("edit", "said"), REFUSED.values(), ids=REFUSED.keys())
def test_ambiguous_type_changes_are_parse_errors_naming_the_field(edit: Edit, said: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_study(edited(edit), TOPIC, by_id=True)
    assert str(caught.value).startswith("ClinicalTrials.gov NCT04768972 ")
    assert said in str(caught.value)


def test_a_missing_or_null_field_is_still_absent() -> None:
    study = edited(_set("statusModule", "whyStopped", None))
    del _protocol(study)["designModule"]["enrollmentInfo"]
    fields = parse_study(study, TOPIC, by_id=True).fields
    assert fields["why_stopped"] is None and fields["enrollment"] is None


def test_type_changes_through_the_watcher_and_store_never_alert(db_url: str) -> None:
    versions = [
        STUDY,
        edited(_count("95")),  # coerced: the same enrollment
        edited(_set("statusModule", "overallStatus", 7)),  # refused: the poll fails
        STUDY,  # the type is back
    ]
    store = Store.open(db_url)
    clock, time = Clock(), FakeClock()
    poll = iter(range(len(versions)))
    current: list[dict[str, Any]] = []

    def version(request: httpx.Request) -> httpx.Response:
        n = next(poll)
        current[:] = [versions[n]]
        return httpx.Response(200, json={"dataTimestamp": f"2026-11-0{n + 1}T06:00:00"})

    try:
        with httpx.Client() as client, respx.mock() as router:
            router.get(f"{BASE}/version").mock(side_effect=version)
            # The listed trial comes with the `filter.ids` search: no by-id request.
            router.get(f"{BASE}/studies").mock(
                side_effect=lambda _: httpx.Response(200, json={"studies": current})
            )
            http = Http(client, min_interval=0.0, sleep=time.sleep, monotonic=time.monotonic)
            watcher = ClinicalTrialsWatcher(http, base_url=BASE)
            summaries = []
            snapshots = []
            for _ in versions:
                clock.advance(hours=1)
                summaries.append(poll_once(watcher, TOPIC, routed(store, CONSOLE), clock))
                snapshots.append(store.snapshot(TOPIC.name, "clinicaltrials"))
        outcomes = [s.outcome for s in summaries]
        assert outcomes == [
            PollOutcome.BASELINE,
            PollOutcome.OK,
            PollOutcome.FAILED,
            PollOutcome.OK,
        ]
        failed = summaries[2].error
        assert failed is not None and "overallStatus is int 7, expected a code word" in failed
        assert snapshots[2] == snapshots[1]  # the failure changed nothing stored
        [stored] = snapshots[1].values()
        assert stored.observation.fields["overall_status"] == "ACTIVE_NOT_RECRUITING"
        assert stored.observation.fields["enrollment"] == "95 (estimated)"
        [health] = store.health(TOPIC.name)
        assert health.consecutive_failures == 0 and health.last_failure is not None
        assert pending_alerts(store.outbox, "console") == []
    finally:
        store.close()
