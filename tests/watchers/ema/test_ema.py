"""EMA medicines report: parse the example (pure) and poll it through a mocked server (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from watchers.ema.watcher import EmaMedicinesWatcher, parse_document, parse_record
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.net.terms import terms_digest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ema"
URL = "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines_json-report_en.json"
ULEFNERSEN = Topic("ulefnersen", aliases=("jacifusen", "ION363"))
TOFERSEN = Topic("tofersen", aliases=("Qalsody",))
ETAG = f"etag {URL}"
MODIFIED = f"last-modified {URL}"
VALIDATORS = {"ETag": '"v1"', "Last-Modified": "Wed, 14 Oct 2026 05:12:44 GMT"}


def load() -> Any:
    return json.loads((FIXTURES / "ema_medicines_json_report.json").read_text(encoding="utf-8"))


def record(index: int, **changes: Any) -> dict[str, Any]:
    """One record of the example report (0 = Qalsody, 1 = the fictional ulefnersen one)."""
    return {**load()["data"][index], **changes}


def names_meta(topic: Topic) -> str:
    return terms_digest(topic.names)


class Ticker:
    """A monotonic clock for the cache that only moves when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:  # unmocked requests fail
        yield router


@pytest.fixture
def http() -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=0, sleep=lambda _s: None)


# --- parse ---------------------------------------------------------------------------------


def test_parse_record_with_a_chmp_opinion_and_no_decision_yet() -> None:
    obs = parse_record(record(1), ULEFNERSEN)
    assert obs is not None
    assert (obs.source, obs.key, obs.topic) == ("ema_medicines", "EMEA/H/C/006999", "ulefnersen")
    assert obs.title == "Ulefnersen Example (ulefnersen)"
    assert obs.url == "https://www.ema.europa.eu/en/medicines/human/EPAR/ulefnersen-example"
    assert obs.matched_alias == "ulefnersen"
    assert obs.published == datetime(2026, 7, 24, tzinfo=UTC)
    assert dict(obs.fields) == {
        "medicine_status": None,
        "opinion_status": "Positive",
        "opinion_adopted_date": "2026-07-23",
        "european_commission_decision_date": None,
        "marketing_authorisation_date": None,
        "_inn": "ulefnersen",
        "_active_substance": "ulefnersen",
        "_holder": "Example Holder B.V.",
        "_orphan": "Yes",
        "_conditional_approval": "Yes",
        "_category": "Human",
        "_last_updated": "2026-07-24",
    }


def test_parse_authorised_medicine_dates_are_iso() -> None:
    obs = parse_record(record(0), TOFERSEN)
    assert obs is not None
    assert obs.title == "Qalsody (tofersen)"
    assert obs.fields["medicine_status"] == "Authorised"
    assert obs.fields["opinion_status"] is None  # "" in the report
    assert obs.fields["opinion_adopted_date"] == "2024-04-25"
    assert obs.fields["european_commission_decision_date"] == "2024-05-29"
    assert obs.fields["marketing_authorisation_date"] == "2024-05-29"


NO_INN = {"international_non_proprietary_name_common_name": ""}
NEAR_MISS = {"international_non_proprietary_name_common_name": "ulefnersenol"}
RECORDS = {
    "matched on the medicine's name": (
        record(0, **NO_INN, active_substance=""),
        Topic("x", aliases=("qalsody",)),
        "qalsody",
    ),
    "matched on the active substance only": (
        record(1, **NO_INN, name_of_medicine="Brand"),
        ULEFNERSEN,
        "ulefnersen",
    ),
    "another topic's medicine": (record(0), ULEFNERSEN, None),
    "veterinary record": (record(1, category="Veterinary"), ULEFNERSEN, None),
    "near miss is not a match": (
        record(1, **NEAR_MISS, active_substance="ulefnersenol", name_of_medicine="X"),
        ULEFNERSEN,
        None,
    ),
}


@pytest.mark.parametrize(("raw", "topic", "alias"), RECORDS.values(), ids=RECORDS.keys())
def test_which_records_belong_to_a_topic(
    raw: dict[str, Any], topic: Topic, alias: str | None
) -> None:
    obs = parse_record(raw, topic)
    assert (obs.matched_alias if obs else None) == alias


def test_record_without_product_number_is_keyed_on_its_name() -> None:
    # *derived*: exports before Oct 2025 had no ema_product_number
    # (docs/sources.md#ema-medicines-report).
    raw = record(1)
    del raw["ema_product_number"]
    obs = parse_record(raw, ULEFNERSEN)
    assert obs is not None and obs.key == "Ulefnersen Example"


def test_record_without_opinion_status_key_does_not_track_it() -> None:
    raw = record(1)
    del raw["opinion_status"]
    obs = parse_record(raw, ULEFNERSEN)
    assert obs is not None and "opinion_status" not in obs.fields


def test_unparseable_date_is_kept_raw() -> None:
    obs = parse_record(record(1, opinion_adopted_date="31/02/2026"), ULEFNERSEN)
    assert obs is not None
    assert obs.fields["opinion_adopted_date"] == "31/02/2026"


def test_bare_array_and_meta_data_documents_give_the_same_records() -> None:
    doc = load()
    assert parse_document(doc["data"]) == parse_document(doc) == doc["data"]


MALFORMED = {
    "object without data": ({"meta": {"total_records": 0}}, "no 'data' list"),
    "data is not a list": ({"data": {"x": 1}}, "no 'data' list"),
    "no records at all": ({"meta": {}, "data": []}, "lists no medicines"),
    "records are not objects": ([1, "two"], "lists no medicines"),
    "a bare string": ("report", "not a JSON object or list"),
}


@pytest.mark.parametrize(("doc", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_documents_are_parse_errors(doc: Any, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_document(doc)


# --- poll ----------------------------------------------------------------------------------


def test_poll_filters_the_report_for_the_topic(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(200, json=load(), headers=VALIDATORS)
    result = EmaMedicinesWatcher(http, URL).poll(ULEFNERSEN, {})
    assert [obs.key for obs in result.observations] == ["EMEA/H/C/006999"]
    assert result.meta == {
        ETAG: '"v1"',
        MODIFIED: "Wed, 14 Oct 2026 05:12:44 GMT",
        "topic_names": names_meta(ULEFNERSEN),
    }


def test_bare_array_document_is_read(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(200, json=load()["data"])  # *derived*: the form older consumers saw
    result = EmaMedicinesWatcher(http, URL).poll(TOFERSEN, {})
    assert [obs.title for obs in result.observations] == ["Qalsody (tofersen)"]
    assert result.meta == {"topic_names": names_meta(TOFERSEN)}  # no validators sent


def test_html_with_200_is_a_parse_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(200, html="<!DOCTYPE html><html><body>Just a moment…</body></html>")
    with pytest.raises(ParseError, match=r"expected JSON from www\.ema\.europa\.eu"):
        EmaMedicinesWatcher(http, URL).poll(ULEFNERSEN, {})


def test_not_modified_is_unchanged_and_keeps_the_validators(
    mock: respx.MockRouter, http: Http
) -> None:
    route = mock.get(URL)
    route.respond(304)
    meta = {ETAG: '"v1"', MODIFIED: "Wed, 14 Oct 2026 05:12:44 GMT"}
    meta["topic_names"] = names_meta(ULEFNERSEN)
    result = EmaMedicinesWatcher(http, URL).poll(ULEFNERSEN, meta)
    assert result.unchanged and result.observations == ()
    assert result.meta == meta
    assert route.calls.last.request.headers["If-None-Match"] == '"v1"'


def test_two_topics_one_request(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL).respond(200, json=load(), headers=VALIDATORS)
    watcher = EmaMedicinesWatcher(http, URL, clock=Ticker())
    first = watcher.poll(ULEFNERSEN, {})
    second = watcher.poll(TOFERSEN, {})
    assert route.call_count == 1
    assert [obs.key for obs in first.observations] == ["EMEA/H/C/006999"]
    assert [obs.key for obs in second.observations] == ["EMEA/H/C/005493"]


def test_two_topics_unchanged_cost_one_conditional_request(
    mock: respx.MockRouter, http: Http
) -> None:
    route = mock.get(URL).respond(304)
    watcher = EmaMedicinesWatcher(http, URL, clock=Ticker())
    for topic in (ULEFNERSEN, TOFERSEN):
        meta = {ETAG: '"v1"', "topic_names": names_meta(topic)}
        assert watcher.poll(topic, meta).unchanged
    assert route.call_count == 1


def test_a_new_topic_after_a_304_still_gets_the_report(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL)
    route.side_effect = [httpx.Response(304), httpx.Response(200, json=load(), headers=VALIDATORS)]
    watcher = EmaMedicinesWatcher(http, URL, clock=Ticker())
    assert watcher.poll(ULEFNERSEN, {ETAG: '"v1"', "topic_names": names_meta(ULEFNERSEN)}).unchanged
    fresh = watcher.poll(TOFERSEN, {})  # first poll of a new topic: nothing to be unchanged from
    assert [obs.key for obs in fresh.observations] == ["EMEA/H/C/005493"]
    assert "If-None-Match" not in route.calls.last.request.headers


def test_changed_topic_names_read_the_report_instead_of_trusting_a_304(
    mock: respx.MockRouter, http: Http
) -> None:
    route = mock.get(URL).respond(200, json=load(), headers=VALIDATORS)
    meta = {ETAG: '"v1"', "topic_names": "tofersen"}  # the alias Qalsody was added since
    result = EmaMedicinesWatcher(http, URL).poll(TOFERSEN, meta)
    assert not result.unchanged
    assert [obs.key for obs in result.observations] == ["EMEA/H/C/005493"]
    assert "If-None-Match" not in route.calls.last.request.headers


def test_same_report_already_seen_by_the_topic_is_unchanged(
    mock: respx.MockRouter, http: Http
) -> None:
    route = mock.get(URL).respond(200, json=load(), headers=VALIDATORS)
    watcher = EmaMedicinesWatcher(http, URL, clock=Ticker())
    first = watcher.poll(TOFERSEN, {})  # a new topic pulls the report into the cache...
    again = watcher.poll(ULEFNERSEN, {**first.meta, "topic_names": names_meta(ULEFNERSEN)})
    assert again.unchanged  # ...that ulefnersen already saw under the same ETag
    assert route.call_count == 1


def test_cache_expires_and_the_next_cycle_asks_again(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL)
    route.side_effect = [httpx.Response(200, json=load(), headers=VALIDATORS), httpx.Response(304)]
    ticker = Ticker()
    watcher = EmaMedicinesWatcher(http, URL, cache_seconds=300, clock=ticker)
    first = watcher.poll(ULEFNERSEN, {})
    ticker.now += 301
    assert watcher.poll(ULEFNERSEN, first.meta).unchanged
    assert route.call_count == 2
    assert route.calls.last.request.headers["If-None-Match"] == '"v1"'


def test_a_failing_report_costs_one_request_for_all_topics(
    mock: respx.MockRouter, http: Http
) -> None:
    route = mock.get(URL).respond(503)
    watcher = EmaMedicinesWatcher(http, URL, clock=Ticker())
    for topic in (ULEFNERSEN, TOFERSEN):
        with pytest.raises(FetchError, match="HTTP 503"):
            watcher.poll(topic, {})
    assert route.call_count == 1  # max_retries=0 in this Http
