"""EU CTIS: parse recorded payloads (pure) and poll through a mocked API (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.ctis.watcher import CtisWatcher, parse_search_page, parse_trial, search_body
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ctis"
BASE = "https://euclinicaltrials.eu/ctis-public-api"
RETRIEVE = "ctis_retrieve_trajnovd_2025-523333-26-00_reduced.json"
SEARCH = "ctis_search_response_SHAPE.json"
GRAVES = Topic("efgartigimod", aliases=("Argenx",), conditions=("Graves' Disease",))
ULEFNERSEN = Topic("ulefnersen", aliases=("ION363",), conditions=("FUS-ALS",))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fusion_record(**top: Any) -> dict[str, Any]:
    """*derived*: the REAL retrieve with the SHAPE row's number and ctrdata-named keys added."""
    record: dict[str, Any] = load(RETRIEVE)
    record["ctNumber"] = "2099-500000-00-00"
    part_one = record["authorizedApplication"]["authorizedPartI"]
    part_one["trialDetails"]["clinicalTrialIdentifiers"] = {
        "publicTitle": "A study of ION363 in FUS-ALS",
        "secondaryIdentifyingNumbers": {"nctNumber": {"number": "NCT04768972"}},
    }
    record["authorizedApplication"]["memberStatesConcerned"] = [
        {"mscName": "Italy"},
        {"mscName": "Germany"},
    ]
    record.update(top)
    return record


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def http() -> Iterator[Http]:
    clock = FakeClock()
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)


# --- parse: recorded payloads -------------------------------------------------------------


def test_parse_recorded_retrieve() -> None:
    obs = parse_trial(load(RETRIEVE), GRAVES, found_by="Graves' Disease")
    assert (obs.source, obs.key, obs.topic) == ("ctis", "2025-523333-26-00", "efgartigimod")
    assert obs.url == (
        "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT=2025-523333-26-00"
    )
    assert obs.fields["overall_status"] == "Under evaluation"
    assert obs.fields["sponsor"] == "Argenx"
    assert obs.fields["_status_code"] == 1
    assert obs.fields["_decision_date"] == "2026-08-07"
    assert obs.fields["results_posted"] is False
    assert obs.fields["early_termination"] is False
    assert obs.fields["temporary_halt"] is False
    # The record's condition names the topic's condition; the sponsor is not a title.
    assert obs.matched_alias == "Graves' Disease"


def test_parse_search_shape_rows_and_paging() -> None:
    rows, more = parse_search_page(load(SEARCH))
    assert [row["ctNumber"] for row in rows] == ["2099-500000-00-00"]
    assert more is False
    doc = load(SEARCH)
    doc["pagination"].update({"currentPage": 1, "totalPages": 2})
    assert parse_search_page(doc)[1] is True


def test_search_row_fills_what_the_record_lacks() -> None:
    [row], _ = parse_search_page(load(SEARCH))
    record = fusion_record()
    record.pop("ctPublicStatusCode")
    record.pop("ctStatus")
    del record["authorizedApplication"]["memberStatesConcerned"]
    obs = parse_trial(record, ULEFNERSEN, row=row)
    assert obs.fields["overall_status"] == "Ongoing, recruiting"  # row ctStatus 4
    assert obs.fields["member_states"] == ("Germany", "Italy")  # "Germany:2", "Italy:1"
    assert obs.fields["start_date"] == "2021-06-14"  # 14/06/2021


def test_nct_link_member_states_and_alias() -> None:
    obs = parse_trial(fusion_record(), ULEFNERSEN)
    assert obs.fields["_nct_id"] == "NCT04768972"
    assert obs.fields["member_states"] == ("Germany", "Italy")
    assert obs.matched_alias == "ION363"
    assert obs.title == "A study of ION363 in FUS-ALS"


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ({"trialEvents": [{"events": [{"notificationType": "EARLY_TERMINATION"}]}]}, "early"),
        ({"trialEvents": [{"earlyTerminationReason": {"code": "1", "name": "Safety"}}]}, "early"),
        ({"temporaryHaltList": [{"haltDate": "2026-10-01"}]}, "halt"),
    ],
    ids=["early-termination-event", "early-termination-reason", "temporary-halt"],
)
def test_events_mark_early_end_and_halt(events: dict[str, Any], field: str) -> None:
    obs = parse_trial(fusion_record(events=events), ULEFNERSEN)
    assert obs.fields["early_termination"] is (field == "early")
    assert obs.fields["temporary_halt"] is (field == "halt")


def test_null_termination_reason_is_not_an_early_end() -> None:
    events = {"trialEvents": [{"earlyTerminationReason": {"code": None, "name": None}}]}
    assert (
        parse_trial(fusion_record(events=events), ULEFNERSEN).fields["early_termination"] is False
    )


def test_results_posted_from_record() -> None:
    record = fusion_record(results={"summaryResults": [{"title": "x"}], "clinicalStudyReports": []})
    assert parse_trial(record, ULEFNERSEN).fields["results_posted"] is True


def test_status_code_in_words_and_unknown_code_kept() -> None:
    assert parse_trial(fusion_record(ctPublicStatusCode=7), ULEFNERSEN).fields[
        "overall_status"
    ] == ("Suspended")
    unknown = parse_trial(fusion_record(ctPublicStatusCode=42, ctStatus="42"), ULEFNERSEN)
    assert unknown.fields["overall_status"] == "status code 42"


def test_search_body_carries_the_sort_the_server_needs() -> None:
    body = search_body({"containAll": "ION363"}, page=2)
    assert body["sort"] == {"property": "decisionDate", "direction": "DESC"}
    assert body["pagination"] == {"page": 2, "size": 100}
    assert body["searchCriteria"] == {"containAll": "ION363"}


def test_search_page_without_data_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no 'data' list"):
        parse_search_page({"pagination": {}})


# --- poll: through respx ------------------------------------------------------------------


def _serve(mock: respx.MockRouter, record: dict[str, Any]) -> tuple[respx.Route, respx.Route]:
    def search(request: httpx.Request) -> httpx.Response:
        criteria = json.loads(request.content)["searchCriteria"]
        if criteria == {"containAll": "ION363"}:
            return httpx.Response(200, json=load(SEARCH))
        return httpx.Response(200, json={"pagination": {"totalPages": 0}, "data": []})

    search_route = mock.post(f"{BASE}/search").mock(side_effect=search)
    retrieve = mock.get(f"{BASE}/retrieve/2099-500000-00-00").mock(
        return_value=httpx.Response(200, json=record)
    )
    return search_route, retrieve


def test_poll_searches_names_and_conditions_then_retrieves(
    mock: respx.MockRouter, http: Http
) -> None:
    search, retrieve = _serve(mock, fusion_record())
    result = CtisWatcher(http).poll(ULEFNERSEN, {})
    sent = [json.loads(call.request.content)["searchCriteria"] for call in search.calls]
    assert sent == [
        {"containAll": "ulefnersen"},
        {"containAll": "ION363"},
        {"medicalCondition": "FUS-ALS"},
    ]
    assert [obs.key for obs in result.observations] == ["2099-500000-00-00"]
    assert retrieve.call_count == 1
    assert result.unchanged is False


def test_unchanged_search_row_costs_no_retrieve(mock: respx.MockRouter, http: Http) -> None:
    search, retrieve = _serve(mock, fusion_record())
    watcher = CtisWatcher(http)
    first = watcher.poll(ULEFNERSEN, {})
    second = watcher.poll(ULEFNERSEN, first.meta)
    assert second.unchanged is True
    assert second.observations == ()
    assert retrieve.call_count == 1
    assert search.call_count == 6  # three searches per poll, nothing else


def test_moved_search_row_is_retrieved_again(mock: respx.MockRouter, http: Http) -> None:
    _, retrieve = _serve(mock, fusion_record())
    watcher = CtisWatcher(http)
    meta = watcher.poll(ULEFNERSEN, {}).meta
    row_doc = load(SEARCH)
    row_doc["data"][0]["ctStatus"] = 6
    mock.post(f"{BASE}/search").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=row_doc
            if json.loads(request.content)["searchCriteria"] == {"containAll": "ION363"}
            else {"data": []},
        )
    )
    retrieve.mock(return_value=httpx.Response(200, json=fusion_record(ctPublicStatusCode=6)))
    result = watcher.poll(ULEFNERSEN, meta)
    assert [obs.fields["overall_status"] for obs in result.observations] == ["Temporarily halted"]


def test_html_answer_with_200_is_an_error(mock: respx.MockRouter, http: Http) -> None:
    mock.post(f"{BASE}/search").mock(
        return_value=httpx.Response(
            200,
            text="<!DOCTYPE html><html><body>CTIS</body></html>",
            headers={"content-type": "text/html"},
        )
    )
    with pytest.raises(ParseError, match="base_url ends in /ctis-public-api"):
        CtisWatcher(http).poll(ULEFNERSEN, {})


def test_retrieve_of_another_record_is_an_error(mock: respx.MockRouter, http: Http) -> None:
    _serve(mock, load(RETRIEVE))  # the row says 2099-…, the record is 2025-…
    with pytest.raises(ParseError, match="not the trial's record"):
        CtisWatcher(http).poll(ULEFNERSEN, {})


def test_too_broad_search_fails_clearly(mock: respx.MockRouter, http: Http) -> None:
    doc = load(SEARCH)
    doc["pagination"]["nextPage"] = True
    mock.post(f"{BASE}/search").mock(return_value=httpx.Response(200, json=doc))
    with pytest.raises(FetchError, match="too broad") as caught:
        CtisWatcher(http, max_pages=2).poll(ULEFNERSEN, {})
    assert caught.value.transient is False


def test_names_change_reads_every_trial_again(mock: respx.MockRouter, http: Http) -> None:
    _, retrieve = _serve(mock, fusion_record())
    watcher = CtisWatcher(http)
    meta = watcher.poll(ULEFNERSEN, {}).meta
    renamed = Topic("ulefnersen", aliases=("ION363", "jacifusen"), conditions=("FUS-ALS",))
    result = watcher.poll(renamed, meta)
    assert retrieve.call_count == 2
    assert len(result.observations) == 1


def test_eu_trial_numbers_are_searched_by_number(mock: respx.MockRouter, http: Http) -> None:
    search, _ = _serve(mock, fusion_record())
    topic = Topic("ulefnersen", eu_trials=("2020-005522-28",))
    CtisWatcher(http).poll(topic, {})
    sent = [json.loads(call.request.content)["searchCriteria"] for call in search.calls]
    assert sent == [{"number": "2020-005522-28"}, {"containAll": "ulefnersen"}]


def test_record_naming_the_topics_nct_trial_matches_by_that_id() -> None:
    record = fusion_record()
    record["authorizedApplication"]["authorizedPartI"]["trialDetails"]["clinicalTrialIdentifiers"][
        "publicTitle"
    ] = "A phase 3 study in ALS"
    obs = parse_trial(record, Topic("ulefnersen", trials=("NCT04768972",)), found_by="x")
    assert obs.matched_alias == "NCT04768972"


@pytest.mark.parametrize(
    ("topic", "alias"),
    [
        (Topic("vyvgart-sc", aliases=("ARGX-113",)), "ARGX-113"),
        (Topic("efgartigimod alfa"), "efgartigimod alfa"),
    ],
    ids=["product-code", "active-substance"],
)
def test_a_product_with_only_a_code_and_a_substance_matches(topic: Topic, alias: str) -> None:
    # *derived* from the REAL record: a product as CTIS sends it when it has no name.
    record = load(RETRIEVE)
    record["authorizedApplication"]["authorizedPartI"]["products"] = [
        {
            "productDictionaryInfo": {
                "sponsorProductCode": "ARGX-113",
                "activeSubstanceName": "EFGARTIGIMOD ALFA",
            }
        }
    ]
    assert parse_trial(record, topic).matched_alias == alias
