"""ClinicalTrials.gov: parse recorded payloads (pure) and poll through a mocked API (respx)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.ctgov.protocol import PROTOCOL_FIELDS
from watchers.ctgov.sites import Site, as_entries
from watchers.ctgov.version import query_fingerprint
from watchers.ctgov.watcher import FIELDS, ClinicalTrialsWatcher, parse_page, parse_study
from watchers.model import FetchError, Observation, ParseError, Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ctgov"
BASE = "https://clinicaltrials.gov/api/v2"
FUSION = "NCT04768972"
TOPIC = Topic(
    "ulefnersen", aliases=("ION363", "jacifusen"), trials=(FUSION,), conditions=("FUS-ALS",)
)
SEARCH_ONLY = Topic("ulefnersen", aliases=("ION363", "jacifusen"))
INTR_QUERY = '"ulefnersen" OR "ION363" OR "jacifusen"'
# The /version shape (docs/sources.md#clinicaltrialsgov; SHAPE: the value is made up).
VERSION = {"apiVersion": "2.0.5", "dataTimestamp": "2026-10-14T09:00:21"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def page(name: str) -> httpx.Response:
    return httpx.Response(200, json=load(name))


def listed(*names: str) -> httpx.Response:
    """The `filter.ids` search answer holding these study records."""
    return httpx.Response(200, json={"studies": [load(name) for name in names]})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    # assert_all_mocked (the default) makes any unmocked request fail the test.
    with respx.mock(assert_all_called=False) as router:
        # Every poll probes /version first; with no stored timestamp it then polls in full.
        router.get(f"{BASE}/version").respond(200, json=VERSION)
        yield router


@pytest.fixture
def watcher(clock: FakeClock) -> Iterator[ClinicalTrialsWatcher]:
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)
        yield ClinicalTrialsWatcher(http, base_url=BASE)


# --- parse: recorded payloads -------------------------------------------------------------


def _study_fields(observation: Observation) -> dict[str, object]:
    """Every field but the protocol's (tests/watchers/ctgov/test_protocol.py reads those)."""
    return {k: v for k, v in observation.fields.items() if k not in PROTOCOL_FIELDS}


def test_parse_example_study_fields() -> None:
    observation = parse_study(load("ctgov_study.json"), TOPIC, by_id=True)
    title = (
        "FUSION: A Study to Evaluate the Efficacy, Safety, Pharmacokinetics and "
        "Pharmacodynamics of ION363 in Amyotrophic Lateral Sclerosis Participants With "
        "Fused in Sarcoma Mutations (FUS-ALS)"
    )
    assert (observation.source, observation.key, observation.topic) == (
        "clinicaltrials",
        FUSION,
        "ulefnersen",
    )
    assert observation.title == title
    assert observation.url == f"https://clinicaltrials.gov/study/{FUSION}"
    assert observation.published is None
    assert observation.matched_alias == "ulefnersen"  # in interventions[].otherNames
    assert _study_fields(observation) == {
        "brief_title": title,
        "overall_status": "ACTIVE_NOT_RECRUITING",
        "why_stopped": None,
        "phases": ("PHASE3",),
        "enrollment": "95 (estimated)",
        "start_date": "2021-06-14 (actual)",
        "primary_completion_date": "2026-09 (estimated)",
        "completion_date": "2028-12 (estimated)",
        "has_results": False,
        "results_first_posted": None,
        "lead_sponsor": "Ionis Pharmaceuticals, Inc.",
        "last_known_status": None,
        "status_verified": "2025-08",
        # Sites keep the state (two same-named cities differ) and their recruitment status.
        "sites": (
            "Columbia University Irving Medical Center | New York | New York | United States"
            " | ACTIVE_NOT_RECRUITING",
            "King's College Hospital | London |  | United Kingdom | ACTIVE_NOT_RECRUITING",
            "Stanford University | Palo Alto | California | United States | ACTIVE_NOT_RECRUITING",
        ),
        "fda_regulated_drug": True,
        "last_update_posted": "2025-08-22",
    }


def test_parse_terminated_study_reads_why_stopped() -> None:
    fields = parse_study(load("ctgov_study_terminated_derived.json"), TOPIC, by_id=True).fields
    assert (fields["overall_status"], fields["why_stopped"]) == ("TERMINATED", "Sponsor decision")


def test_parse_full_aact_record() -> None:
    topic = Topic("unrelated", trials=("NCT06171568",))
    observation = parse_study(load("ctgov_full_study_aact_NCT06171568.json"), topic, by_id=True)
    assert observation.matched_alias == "NCT06171568"  # found by id, no name in its text
    assert _study_fields(observation) == {
        "brief_title": "Lariboisière Cognitive Assessment: Evaluation of the 1-year Outcomes",
        "overall_status": "NOT_YET_RECRUITING",
        "why_stopped": None,
        "phases": (),  # observational: no phases key
        "enrollment": "400 (estimated)",
        "start_date": "2024-02-01 (estimated)",
        "primary_completion_date": "2025-02-01 (estimated)",
        "completion_date": "2025-02-01 (estimated)",
        "has_results": False,
        "results_first_posted": None,
        "lead_sponsor": "Assistance Publique - Hôpitaux de Paris",
        "last_known_status": None,
        "status_verified": "2023-12",
        "sites": ("Neurosurgery - Lariboisière hospital | Paris | Ile-de-France | France | ",),
        "fda_regulated_drug": False,
        "last_update_posted": "2023-12-14",
    }


def test_parse_full_record_with_results() -> None:
    study = load("ctgov_full_study_with_results_aact_NCT05594173.json")
    fields = parse_study(study, Topic("x"), by_id=False).fields
    assert fields["has_results"] is True
    assert fields["results_first_posted"] == "2022-11-21"
    assert fields["overall_status"] == "COMPLETED"
    assert fields["enrollment"] == "20 (actual)"
    assert fields["completion_date"] == "2020-12-20 (actual)"


def test_derived_section_is_ignored() -> None:
    study = load("ctgov_full_study_aact_NCT06171568.json")
    changed = copy.deepcopy(study)
    changed["derivedSection"]["miscInfoModule"]["versionHolder"] = "2099-01-01"
    changed["derivedSection"]["conditionBrowseModule"]["browseLeaves"] = []
    assert parse_study(changed, TOPIC, by_id=False) == parse_study(study, TOPIC, by_id=False)


def test_parse_fields_limited_record_with_locations_and_other_names() -> None:
    study = load("ctgov_study_fields_locations_biomcp_NCT02576665.json")
    observation = parse_study(study, Topic("flucytosine", aliases=("5-FC",)), by_id=False)
    assert observation.key == "NCT02576665"
    assert observation.matched_alias == "flucytosine"  # otherNames, case-insensitive
    fields = observation.fields
    assert fields["overall_status"] == "TERMINATED"
    assert fields["start_date"] == "2016-07"  # no type in this record
    assert fields["completion_date"] == "2019-12-20"
    assert fields["primary_completion_date"] is None
    assert fields["enrollment"] == "21"
    assert fields["lead_sponsor"] == "Tocagen Inc."
    assert fields["has_results"] is False
    assert fields["sites"] == (  # a fields-limited record with no site status
        "MD Anderson Cancer Center | Houston | Texas | United States | ",
        "Sarah Cannon Research Institute | Denver | Colorado | United States | ",
        "University of Miami | Miami | Florida | United States | ",
    )


def test_locations_are_deduplicated_and_skip_empty_parts() -> None:
    study = load("ctgov_study.json")
    sites = study["protocolSection"]["contactsLocationsModule"]["locations"]
    sites.append(copy.deepcopy(sites[0]))
    sites.append({"city": "Paris", "country": "France"})
    sites.append({"status": "RECRUITING"})
    locations = parse_study(study, TOPIC, by_id=True).fields["sites"]
    assert [Site.decode(entry).label for entry in as_entries(locations)] == [
        "unnamed site (Paris, France)",  # sorted by facility: unnamed first
        "Columbia University Irving Medical Center (New York, United States)",
        "King's College Hospital (London, United Kingdom)",
        "Stanford University (Palo Alto, United States)",
    ]


def test_unnamed_sites_in_same_named_cities_of_two_states_stay_two_sites() -> None:
    study = load("ctgov_study.json")
    study["protocolSection"]["contactsLocationsModule"]["locations"] = [
        {"city": "Birmingham", "state": "Alabama", "country": "United States"},
        {"city": "Birmingham", "state": "Michigan", "country": "United States"},
    ]
    assert len(as_entries(parse_study(study, TOPIC, by_id=True).fields["sites"])) == 2


def test_unknown_status_keeps_last_known_status_and_verification_date() -> None:
    study = load("ctgov_study.json")
    status = study["protocolSection"]["statusModule"]
    status.update(overallStatus="UNKNOWN", lastKnownStatus="RECRUITING")
    fields = parse_study(study, TOPIC, by_id=True).fields
    assert (fields["overall_status"], fields["last_known_status"]) == ("UNKNOWN", "RECRUITING")
    assert fields["status_verified"] == "2025-08"


def test_phases_are_sorted() -> None:
    study = load("ctgov_study.json")
    study["protocolSection"]["designModule"]["phases"] = ["PHASE3", "PHASE2"]
    assert parse_study(study, TOPIC, by_id=True).fields["phases"] == ("PHASE2", "PHASE3")


def test_parse_recorded_search_pages() -> None:
    studies1, token1 = parse_page(load("ctgov_search_page1_biomcp_phelan.json"))
    studies2, token2 = parse_page(load("ctgov_search_page2_biomcp_phelan.json"))  # no totalCount
    assert token1 == "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw"
    assert token2 == "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4bmjeauvk_IQ"
    assert len(studies1) == len(studies2) == 5
    first = parse_study(studies1[0], Topic("x"), by_id=False)
    assert first.key == "NCT02710084"
    assert first.fields["phases"] == ("PHASE2",)
    assert first.fields["enrollment"] == "18"
    assert first.fields["start_date"] == "2016-04-29"
    assert first.fields["has_results"] is False  # reduced capture: no hasResults key
    assert first.matched_alias is None
    keys = [parse_study(s, Topic("x"), by_id=False).key for s in studies1 + studies2]
    assert len(set(keys)) == 10


def test_parse_example_search_page_and_empty_pages() -> None:
    studies, token = parse_page(load("ctgov_search_ulefnersen_page1.json"))
    assert token is None
    observation = parse_study(studies[0], SEARCH_ONLY, by_id=False)
    assert (observation.key, observation.matched_alias) == (FUSION, "ulefnersen")
    assert observation.fields["overall_status"] == "ACTIVE_NOT_RECRUITING"
    assert observation.fields["sites"] == ()  # not in this page's fields
    assert parse_page(load("ctgov_search_empty.json")) == ([], None)
    studies, token = parse_page(load("ctgov_search_empty_with_token_derived.json"))
    assert studies == []
    assert token is not None


BROKEN_PAGES = {
    "not an object": ([],),
    "no studies key": ({"totalCount": 3},),
    "studies not a list": ({"studies": {"NCT1": {}}},),
    "study not an object": ({"studies": ["NCT04768972"]},),
    "study without nctId": ({"studies": [{"protocolSection": {"statusModule": {}}}]},),
}


@pytest.mark.parametrize("doc", [c[0] for c in BROKEN_PAGES.values()], ids=BROKEN_PAGES.keys())
def test_parse_page_rejects_broken_pages(doc: Any) -> None:
    with pytest.raises(ParseError):
        parse_page(doc)


ALIAS_CASES = {
    "name in text wins over id": (TOPIC, True, False, "ulefnersen"),
    "by id without name": (Topic("x", trials=(FUSION,)), True, False, FUSION),
    "condition found in keywords": (Topic("x", conditions=("FUS-ALS",)), False, True, "FUS-ALS"),
    "condition not literally present": (
        Topic("x", conditions=("motor neurone disease", "MND")),
        False,
        True,
        "motor neurone disease OR MND",
    ),
    "search hit without any name": (Topic("x"), False, False, None),
}


@pytest.mark.parametrize(
    ("topic", "by_id", "by_condition", "expected"), ALIAS_CASES.values(), ids=ALIAS_CASES.keys()
)
def test_matched_alias_explains_why_the_study_belongs(
    topic: Topic, by_id: bool, by_condition: bool, expected: str | None
) -> None:
    study = load("ctgov_study.json")
    observation = parse_study(study, topic, by_id=by_id, by_condition=by_condition)
    assert observation.matched_alias == expected


# --- poll: through a mocked API ----------------------------------------------------------


def test_poll_follows_pagination_to_the_end(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    route = mock.get(f"{BASE}/studies")
    route.side_effect = [
        page("ctgov_search_page1_biomcp_phelan.json"),
        page("ctgov_search_page2_biomcp_phelan.json"),
        page("ctgov_search_empty_with_token_derived.json"),  # empty but not last
        page("ctgov_search_empty.json"),
    ]
    result = watcher.poll(SEARCH_ONLY, {})
    assert route.call_count == 4
    sent = [call.request.url.params for call in route.calls]
    assert [p.get("pageToken") for p in sent] == [
        None,
        "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw",
        "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4bmjeauvk_IQ",
        "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4bmjeauvk_IQ-derived3",
    ]
    assert [p.get("countTotal") for p in sent] == ["true", None, None, None]
    assert {p["query.intr"] for p in sent} == {INTR_QUERY}
    assert {p["fields"] for p in sent} == {FIELDS}
    assert {p["pageSize"] for p in sent} == {"100"}
    keys = [observation.key for observation in result.observations]
    assert len(keys) == 10
    assert keys == sorted(keys)
    assert (result.source, result.topic, result.gone) == (
        "clinicaltrials",
        "ulefnersen",
        frozenset(),
    )


def test_poll_merges_by_id_and_searches(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    by_id = mock.get(f"{BASE}/studies", params={"filter.ids": FUSION}).mock(
        return_value=listed("ctgov_study.json")
    )
    mock.get(f"{BASE}/studies", params={"query.intr": INTR_QUERY}).mock(
        return_value=page("ctgov_search_ulefnersen_page1.json")
    )
    # The condition search finds FUSION again plus a study with none of the names.
    both = [load("ctgov_study.json"), load("ctgov_study_fields_locations_biomcp_NCT02576665.json")]
    cond = mock.get(f"{BASE}/studies", params={"query.cond": '"FUS-ALS"'}).mock(
        return_value=httpx.Response(200, json={"studies": both})
    )
    result = watcher.poll(TOPIC, {})
    assert by_id.calls.last.request.url.params["fields"] == FIELDS
    assert cond.called
    assert [o.key for o in result.observations] == ["NCT02576665", FUSION]  # one per study
    fusion = result.observations[1]
    assert fusion.matched_alias == "ulefnersen"
    locations = fusion.fields["sites"]
    assert isinstance(locations, tuple)
    assert len(locations) == 3  # the by-id record, not the slimmer search hit
    other = result.observations[0]
    assert other.matched_alias == "FUS-ALS"  # found only by the condition search
    assert result.gone == frozenset()


def test_a_study_the_name_search_found_without_a_name_belongs_by_the_condition_search(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    """The registry matches synonyms: the name search may find a study none of the names is
    in; found again by the condition search, the condition is why it belongs."""
    unnamed = {"studies": [load("ctgov_study_fields_locations_biomcp_NCT02576665.json")]}
    mock.get(f"{BASE}/studies", params={"filter.ids": FUSION}).mock(
        return_value=listed("ctgov_study.json")
    )
    mock.get(f"{BASE}/studies", params={"query.intr": INTR_QUERY}).respond(200, json=unnamed)
    cond = mock.get(f"{BASE}/studies", params={"query.cond": '"FUS-ALS"'})
    cond.respond(200, json=unnamed)
    found_twice = watcher.poll(TOPIC, {})
    assert [o.matched_alias for o in found_twice.observations] == ["FUS-ALS", "ulefnersen"]
    cond.respond(200, json={"studies": []})
    by_name_search_only = watcher.poll(TOPIC, {})
    assert [o.matched_alias for o in by_name_search_only.observations] == [None, "ulefnersen"]


def test_poll_404_by_id_reports_gone(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    mock.get(f"{BASE}/studies/{FUSION}").respond(404, text=f"Study not found: {FUSION}")
    mock.get(f"{BASE}/studies").mock(return_value=page("ctgov_search_empty.json"))
    result = watcher.poll(Topic("ulefnersen", trials=(FUSION.lower(),)), {})
    assert result.gone == frozenset({FUSION})
    assert result.observations == ()


def test_poll_400_is_a_permanent_fetch_error(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, clock: FakeClock
) -> None:
    body = (FIXTURES / "ctgov_error_400.txt").read_text(encoding="utf-8")
    mock.get(f"{BASE}/studies").respond(400, text=body, headers={"Content-Type": "text/plain"})
    with pytest.raises(FetchError) as caught:
        watcher.poll(SEARCH_ONLY, {})
    assert caught.value.transient is False
    assert "clinicaltrials.gov answered HTTP 400 for /api/v2/studies" in str(caught.value)
    assert "Error parsing query in Intervention / treatment" in str(caught.value)
    assert clock.sleeps == []


def test_poll_retries_500_then_succeeds(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, clock: FakeClock
) -> None:
    mock.get(f"{BASE}/studies").side_effect = [
        httpx.Response(500),
        page("ctgov_search_ulefnersen_page1.json"),
    ]
    result = watcher.poll(SEARCH_ONLY, {})
    assert [o.key for o in result.observations] == [FUSION]
    assert clock.sleeps == [1.0]


def test_poll_honours_retry_after_on_429(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, clock: FakeClock
) -> None:
    mock.get(f"{BASE}/studies").side_effect = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        page("ctgov_search_empty.json"),
    ]
    assert watcher.poll(SEARCH_ONLY, {}).observations == ()
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        pytest.param(
            httpx.Response(
                200,
                text="<!DOCTYPE html><html><body>Just a moment...</body></html>",
                headers={"Content-Type": "text/html"},
            ),
            "expected JSON from clinicaltrials.gov/api/v2/studies, got text/html",
            id="html with 200",
        ),
        pytest.param(httpx.Response(200), "got an empty body", id="empty body"),
        pytest.param(
            httpx.Response(200, json={"totalCount": 1}), "no 'studies' list", id="no studies"
        ),
    ],
)
def test_poll_unreadable_answer_is_a_parse_error(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, response: httpx.Response, message: str
) -> None:
    mock.get(f"{BASE}/studies").mock(return_value=response)
    with pytest.raises(ParseError, match=re.escape(message)):
        watcher.poll(SEARCH_ONLY, {})


def test_poll_timeout_is_a_transient_fetch_error(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, clock: FakeClock
) -> None:
    route = mock.get(f"{BASE}/studies").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(FetchError, match=r"clinicaltrials\.gov did not answer") as caught:
        watcher.poll(TOPIC, {})
    assert caught.value.transient is True
    assert route.call_count == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_poll_stops_a_search_that_is_too_broad(mock: respx.MockRouter, clock: FakeClock) -> None:
    route = mock.get(f"{BASE}/studies").mock(
        return_value=page("ctgov_search_page1_biomcp_phelan.json")
    )
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)
        watcher = ClinicalTrialsWatcher(http, base_url=BASE, page_size=5, max_pages=3)
        with pytest.raises(FetchError, match="more than 3 pages of 5: too broad") as caught:
            watcher.poll(SEARCH_ONLY, {})
    assert caught.value.transient is False
    assert route.call_count == 3


def test_poll_sends_our_user_agent(mock: respx.MockRouter, watcher: ClinicalTrialsWatcher) -> None:
    route = mock.get(f"{BASE}/studies").mock(return_value=page("ctgov_search_empty.json"))
    watcher.poll(SEARCH_ONLY, {})
    agent = route.calls.last.request.headers["User-Agent"]
    assert "trialwatch/" in agent
    assert "python-httpx" in agent


def test_poll_paces_requests_to_the_same_host(mock: respx.MockRouter, clock: FakeClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        clock.now += 0.4  # the registry takes 0.4 s to answer
        if request.url.params.get("filter.ids") == FUSION:
            return listed("ctgov_study.json")
        return page("ctgov_search_empty.json")

    mock.get(url__startswith=BASE).mock(side_effect=answer)
    with httpx.Client() as client:
        http = Http(client, min_interval=1.0, sleep=clock.sleep, monotonic=clock.monotonic)
        ClinicalTrialsWatcher(http, base_url=BASE).poll(Topic("x", trials=(FUSION,)), {})
    # The /version probe, the listed ids 1 s later, then the search 0.6 s after the 0.4 s answer.
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(0.6)]


def test_poll_through_a_mirror_keeps_public_study_urls(
    mock: respx.MockRouter, clock: FakeClock
) -> None:
    mirror = "https://ctgov-mirror.internal.example/api/v2/"
    probe = mock.get(f"{mirror}version").respond(200, json=VERSION)
    mock.get("https://ctgov-mirror.internal.example/api/v2/studies").mock(
        return_value=page("ctgov_search_ulefnersen_page1.json")
    )
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)
        result = ClinicalTrialsWatcher(http, base_url=mirror).poll(SEARCH_ONLY, {})
    assert result.observations[0].url == f"https://clinicaltrials.gov/study/{FUSION}"
    assert probe.called  # the probe goes to the mirror too


def test_poll_rejects_a_malformed_trial_id_without_asking(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    with pytest.raises(FetchError, match="lists trial 'NCT-123', which is not an NCT id") as e:
        watcher.poll(Topic("x", trials=("NCT-123",)), {})
    assert e.value.transient is False
    assert not mock.calls


# --- the /version probe --------------------------------------------------------------------


def fusion_registry(mock: respx.MockRouter) -> None:
    """Study and search routes for TOPIC."""
    mock.get(f"{BASE}/studies/{FUSION}").mock(return_value=page("ctgov_study.json"))
    mock.get(f"{BASE}/studies", params={"filter.ids": FUSION}).mock(
        return_value=listed("ctgov_study.json")
    )
    mock.get(f"{BASE}/studies").mock(return_value=page("ctgov_search_ulefnersen_page1.json"))


def paths(mock: respx.MockRouter) -> list[str]:
    return [call.request.url.path for call in mock.calls]


def listed_ids_asked(mock: respx.MockRouter) -> list[str]:
    return [
        c.request.url.params["filter.ids"]
        for c in mock.calls
        if "filter.ids" in c.request.url.params
    ]


def stored_meta(timestamp: str = VERSION["dataTimestamp"], topic: Topic = TOPIC) -> dict[str, str]:
    return {"data_timestamp": timestamp, "query": query_fingerprint(topic)}


def test_unchanged_data_timestamp_costs_one_request(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    fusion_registry(mock)
    result = watcher.poll(TOPIC, stored_meta())
    assert result.unchanged
    assert result.observations == ()
    assert result.meta == stored_meta()  # kept whole for the next poll
    assert paths(mock) == ["/api/v2/version"]


def test_first_poll_and_new_data_timestamp_poll_in_full(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    fusion_registry(mock)
    for meta in ({}, stored_meta("2026-10-13T09:00:05")):
        result = watcher.poll(TOPIC, meta)
        assert not result.unchanged
        assert [o.key for o in result.observations] == [FUSION]
        assert result.meta == stored_meta()  # remembers the timestamp it has now seen


def test_a_changed_topic_polls_in_full_despite_the_same_timestamp(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    fusion_registry(mock)
    before = stored_meta(topic=Topic("ulefnersen", aliases=("ION363", "jacifusen")))
    result = watcher.poll(TOPIC, before)  # a trial and a condition were added since
    assert not result.unchanged
    assert [o.key for o in result.observations] == [FUSION]
    assert result.meta == stored_meta()


PROBE_FAILURES = {
    "500": httpx.Response(500),
    "404 from a mirror without /version": httpx.Response(404, text="Not Found"),
    "html page": httpx.Response(200, html="<html>Just a moment...</html>"),
    "no dataTimestamp (optional in the spec)": httpx.Response(200, json={"apiVersion": "2.0.5"}),
}


@pytest.mark.parametrize("answer", PROBE_FAILURES.values(), ids=PROBE_FAILURES.keys())
def test_a_failed_probe_falls_back_to_the_full_poll(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher, answer: httpx.Response
) -> None:
    mock.get(f"{BASE}/version").mock(return_value=answer)
    fusion_registry(mock)
    result = watcher.poll(TOPIC, stored_meta())
    assert not result.unchanged
    assert [o.key for o in result.observations] == [FUSION]
    assert FUSION in listed_ids_asked(mock)
    assert result.meta == stored_meta()  # the stored meta stays; the next probe decides


def test_the_probe_can_be_turned_off(mock: respx.MockRouter, clock: FakeClock) -> None:
    fusion_registry(mock)
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)
        result = ClinicalTrialsWatcher(http, base_url=BASE, version_probe=False).poll(
            TOPIC, stored_meta()
        )
    assert not result.unchanged
    assert "/api/v2/version" not in paths(mock)


# --- listed trials in one query ------------------------------------------------------------


def _bare_study(nct: str) -> dict[str, Any]:
    return {"protocolSection": {"identificationModule": {"nctId": nct, "briefTitle": nct}}}


def test_a_thousand_listed_trials_cost_one_query_and_the_missing_ones_are_asked_alone(
    mock: respx.MockRouter, clock: FakeClock
) -> None:
    ids = [f"NCT{n:08d}" for n in range(1, 1001)]
    withdrawn, alias, current = ids[-2], ids[-1], "NCT09999999"
    answered = [_bare_study(nct) for nct in ids[:-2]]
    mock.get(f"{BASE}/version").respond(200, json=VERSION)
    batch = mock.get(f"{BASE}/studies", params={"filter.ids": ",".join(ids)}).respond(
        200, json={"studies": answered}
    )
    search = mock.get(f"{BASE}/studies", params={"query.intr": '"x"'}).mock(
        return_value=page("ctgov_search_empty.json")
    )
    gone = mock.get(f"{BASE}/studies/{withdrawn}").respond(404, text="not found")
    moved = mock.get(f"{BASE}/studies/{alias}").respond(
        301, headers={"Location": f"{BASE}/studies/{current}"}
    )
    mock.get(f"{BASE}/studies/{current}").respond(200, json=_bare_study(current))
    with httpx.Client(follow_redirects=True) as client:  # as the shared client does
        http = Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)
        result = ClinicalTrialsWatcher(http, base_url=BASE).poll(Topic("x", trials=tuple(ids)), {})
    assert batch.call_count == 1
    assert batch.calls.last.request.url.params["pageSize"] == "1000"
    assert (gone.call_count, moved.call_count, search.call_count) == (1, 1, 1)
    assert result.gone == frozenset({withdrawn})  # a 404 is gone; an alias is followed
    keys = {o.key for o in result.observations}
    assert len(keys) == 999 and current in keys and alias not in keys
    assert all(o.matched_alias == o.key for o in result.observations if o.key != current)


def test_a_refreshed_cycle_of_a_thousand_listed_trials_is_three_requests(
    mock: respx.MockRouter, watcher: ClinicalTrialsWatcher
) -> None:
    ids = [f"NCT{n:08d}" for n in range(1, 1001)]
    mock.get(f"{BASE}/version").respond(200, json=VERSION)
    mock.get(f"{BASE}/studies", params={"filter.ids": ",".join(ids)}).respond(
        200, json={"studies": [_bare_study(nct) for nct in ids]}
    )
    mock.get(f"{BASE}/studies", params={"query.intr": '"x"'}).mock(
        return_value=page("ctgov_search_empty.json")
    )
    result = watcher.poll(Topic("x", trials=tuple(ids)), stored_meta("2026-01-01T00:00:00"))
    assert len(result.observations) == 1000
    assert len(mock.calls) == 3  # the probe, the listed trials, the name search
