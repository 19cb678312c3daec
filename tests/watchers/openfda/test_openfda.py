"""openFDA Drugs@FDA: parse recorded payloads (pure) and poll through a mocked API (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from state.poll.diff import diff
from state.types import ChangeKind, Severity, StoredObservation
from tests.factories import T0
from tests.fakes.clock import FakeClock
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.openfda.watcher import OpenFdaWatcher, build_search, parse_application

FIXTURES = Path(__file__).parents[2] / "fixtures" / "openfda"
URL = "https://api.fda.gov/drug/drugsfda.json"
TOFERSEN = Topic("tofersen", aliases=("QALSODY",))
ULEFNERSEN = Topic("ulefnersen", aliases=("jacifusen", "ION363"))
KEY = "SeCrEtKeY123"
QALSODY_SEARCH = (
    'openfda.generic_name:"tofersen" OR openfda.brand_name:"tofersen" OR '
    'products.brand_name:"tofersen" OR products.active_ingredients.name:"tofersen" OR '
    'openfda.generic_name:"QALSODY" OR openfda.brand_name:"QALSODY" OR '
    'products.brand_name:"QALSODY" OR products.active_ingredients.name:"QALSODY"'
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def qalsody(**submission: Any) -> dict[str, Any]:
    """*derived*: the Qalsody answer with its one submission's values overridden."""
    doc = load("openfda_drugsfda_qalsody.json")
    doc["results"][0]["submissions"][0].update(submission)
    return doc


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:  # unmocked requests fail
        yield router


@pytest.fixture
def http(clock: FakeClock) -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)


# --- parse: recorded payloads -------------------------------------------------------------


def test_parse_qalsody_submission() -> None:
    [obs] = parse_application(load("openfda_drugsfda_qalsody.json")["results"][0], TOFERSEN)
    assert (obs.source, obs.key, obs.topic) == ("openfda", "NDA215887:ORIG-1", "tofersen")
    assert obs.title == "QALSODY (tofersen) NDA215887 ORIG-1"
    assert obs.url == (
        "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm"
        "?event=overview.process&ApplNo=215887"
    )
    assert obs.matched_alias == "tofersen"
    assert obs.published == datetime(2023, 4, 25, tzinfo=UTC)
    assert dict(obs.fields) == {
        "submission_status": "AP",
        "submission_status_date": "2023-04-25",
        "_application": "NDA215887",
        "_brand_names": ("QALSODY",),
        "_generic_names": ("TOFERSEN",),
        "_sponsor": "BIOGEN INC",
        "_submission_type": "ORIG",
        "_review_priority": "PRIORITY",
    }


def test_parse_real_imatinib_capture() -> None:
    application = load("openfda_drugsfda_imatinib_biomcp.json")["results"][0]
    [obs] = parse_application(application, Topic("imatinib", aliases=("Gleevec",)))
    assert obs.key == "NDA021588:ORIG-1"
    assert obs.title == "GLEEVEC (imatinib mesylate) NDA021588 ORIG-1"
    assert obs.url.endswith("ApplNo=021588")
    assert obs.matched_alias == "imatinib"
    assert obs.fields["submission_status_date"] == "2003-04-18"


def test_empty_openfda_block_still_names_the_drug_from_its_products() -> None:
    # *derived*: `openfda` can be {} (docs/sources.md#openfda), typical of a fresh approval.
    application = load("openfda_drugsfda_qalsody.json")["results"][0]
    application["openfda"] = {}
    [obs] = parse_application(application, TOFERSEN)
    assert obs.title == "QALSODY (tofersen) NDA215887 ORIG-1"
    assert obs.matched_alias == "tofersen"  # found in products[].active_ingredients[].name
    assert obs.fields["_generic_names"] == ("TOFERSEN",)


def test_every_submission_is_its_own_observation_whatever_the_order() -> None:
    # *derived*: real records list ORIG and SUPPL submissions, unsorted, priority sometimes absent.
    application = load("openfda_drugsfda_qalsody.json")["results"][0]
    supplement = {
        "submission_type": "SUPPL",
        "submission_number": "3",
        "submission_status": "AP",
        "submission_status_date": "20250102",
    }
    application["submissions"].insert(0, supplement)
    observations = parse_application(application, TOFERSEN)
    by_key = {obs.key: obs for obs in observations}
    assert set(by_key) == {"NDA215887:SUPPL-3", "NDA215887:ORIG-1"}
    assert by_key["NDA215887:SUPPL-3"].fields["_review_priority"] is None
    assert by_key["NDA215887:SUPPL-3"].title == "QALSODY (tofersen) NDA215887 SUPPL-3"


def test_unparseable_status_date_is_kept_raw() -> None:
    application = qalsody(submission_status_date="2023-4-25")["results"][0]
    [obs] = parse_application(application, TOFERSEN)
    assert obs.fields["submission_status_date"] == "2023-4-25"
    assert obs.published is None


def test_application_without_a_number_is_skipped() -> None:
    application = load("openfda_drugsfda_qalsody.json")["results"][0]
    del application["application_number"]
    assert parse_application(application, TOFERSEN) == []


SEARCHES = {
    "one name: every name field, quoted": (
        ["tofersen"],
        [
            'openfda.generic_name:"tofersen" OR openfda.brand_name:"tofersen" OR '
            'products.brand_name:"tofersen" OR products.active_ingredients.name:"tofersen"'
        ],
    ),
    "quotes and backslashes cannot break the phrase": (
        ['ION"363\\'],
        [
            'openfda.generic_name:"ION 363" OR openfda.brand_name:"ION 363" OR '
            'products.brand_name:"ION 363" OR products.active_ingredients.name:"ION 363"'
        ],
    ),
    "blank names are skipped": (["  ", '""'], []),
}


@pytest.mark.parametrize(("names", "expected"), SEARCHES.values(), ids=SEARCHES.keys())
def test_build_search(names: list[str], expected: list[str]) -> None:
    assert build_search(names) == expected


def test_long_alias_lists_are_split_into_short_queries() -> None:
    names = [f"alias-number-{i:03d}" for i in range(40)]
    queries = build_search(names)
    assert len(queries) > 1
    assert all(len(query) <= 1500 for query in queries)
    assert sum(query.count('openfda.generic_name:"') for query in queries) == 40


# --- poll: through a mocked openFDA -------------------------------------------------------


def test_poll_sends_the_search_and_returns_submissions(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL).respond(200, json=load("openfda_drugsfda_qalsody.json"))
    result = OpenFdaWatcher(http).poll(TOFERSEN, {})
    assert [obs.key for obs in result.observations] == ["NDA215887:ORIG-1"]
    assert result.meta == {"last_updated": "2026-07-10"}
    request = route.calls.last.request
    assert request.url.params["search"] == QALSODY_SEARCH
    assert request.url.params["limit"] == "100"
    assert "api_key" not in request.url.params
    assert b'"' not in request.url.raw_path and b" " not in request.url.raw_path


def test_not_found_404_is_an_empty_result_not_a_failure(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(404, json=load("openfda_error_not_found.json"))
    result = OpenFdaWatcher(http).poll(ULEFNERSEN, {})
    assert (result.source, result.topic, result.observations) == ("openfda", "ulefnersen", ())
    assert not result.unchanged


OTHER_404 = {
    "html page": ("text/html", b"<html><body>Not Found</body></html>", "not openFDA's NOT_FOUND"),
    "json without error": ("application/json", b'{"results": []}', "not openFDA's NOT_FOUND"),
    "another error code": (
        "application/json",
        b'{"error": {"code": "BAD_REQUEST", "message": "Invalid"}}',
        "error code BAD_REQUEST",
    ),
}


@pytest.mark.parametrize(("ctype", "body", "said"), OTHER_404.values(), ids=OTHER_404.keys())
def test_other_404_is_a_failure(
    mock: respx.MockRouter, http: Http, ctype: str, body: bytes, said: str
) -> None:
    mock.get(URL).respond(404, content=body, headers={"Content-Type": ctype})
    with pytest.raises(FetchError) as caught:
        OpenFdaWatcher(http).poll(ULEFNERSEN, {})
    assert "api.fda.gov/drug/drugsfda.json answered HTTP 404" in str(caught.value)
    assert said in str(caught.value)
    assert caught.value.transient is False


def test_quota_429_is_retried_after_retry_after(
    mock: respx.MockRouter, http: Http, clock: FakeClock
) -> None:
    mock.get(URL).side_effect = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json=load("openfda_drugsfda_qalsody.json")),
    ]
    result = OpenFdaWatcher(http).poll(TOFERSEN, {})
    assert len(result.observations) == 1
    assert clock.sleeps == [7.0]


def test_html_with_200_is_a_parse_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(200, html="<html><body>Access denied</body></html>")
    with pytest.raises(ParseError, match=r"expected JSON from api\.fda\.gov"):
        OpenFdaWatcher(http).poll(TOFERSEN, {})


def test_json_without_results_is_a_parse_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).respond(200, json={"meta": {}})
    with pytest.raises(ParseError, match="no 'results' list"):
        OpenFdaWatcher(http).poll(TOFERSEN, {})


def test_api_key_is_sent_and_never_in_error_messages(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL)
    route.side_effect = [
        httpx.Response(200, json=load("openfda_drugsfda_qalsody.json")),
        httpx.Response(400, json={"error": {"code": "BAD_REQUEST", "message": "Invalid"}}),
        httpx.Response(404, html="<html>gone</html>"),
    ]
    watcher = OpenFdaWatcher(http, api_key=KEY)
    watcher.poll(TOFERSEN, {})
    assert route.calls.last.request.url.params["api_key"] == KEY
    for _ in range(2):
        with pytest.raises(FetchError) as caught:
            watcher.poll(TOFERSEN, {})
        assert KEY not in str(caught.value)


def test_server_down_after_retries_does_not_leak_the_key(
    mock: respx.MockRouter, http: Http
) -> None:
    mock.get(URL).respond(503)
    with pytest.raises(FetchError) as caught:
        OpenFdaWatcher(http, api_key=KEY).poll(TOFERSEN, {})
    assert KEY not in str(caught.value)
    assert caught.value.transient is True


def _page(total: int, number: str) -> dict[str, Any]:
    """*derived*: a Qalsody-shaped page claiming `total` matches, for one application number."""
    doc = load("openfda_drugsfda_qalsody.json")
    doc["meta"]["results"]["total"] = total
    doc["results"][0]["application_number"] = number
    return doc


def test_more_than_one_page_is_read_with_skip(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL)
    route.side_effect = [
        httpx.Response(200, json=_page(150, "NDA215887")),
        httpx.Response(200, json=_page(150, "NDA299999")),
    ]
    result = OpenFdaWatcher(http).poll(TOFERSEN, {})
    assert [obs.key for obs in result.observations] == ["NDA215887:ORIG-1", "NDA299999:ORIG-1"]
    assert "skip" not in route.calls[0].request.url.params
    assert route.calls[1].request.url.params["skip"] == "100"


def test_a_search_too_broad_to_page_through_fails_plainly(
    mock: respx.MockRouter, http: Http
) -> None:
    mock.get(URL).respond(200, json=_page(5000, "NDA215887"))
    with pytest.raises(FetchError, match=r"matches 5000 applications.*too broad") as caught:
        OpenFdaWatcher(http, max_pages=2).poll(TOFERSEN, {})
    assert caught.value.transient is False


def test_tentative_to_approved_is_one_high_update(mock: respx.MockRouter, http: Http) -> None:
    # *derived*: the same submission first tentatively approved, then approved.
    mock.get(URL).side_effect = [
        httpx.Response(
            200, json=qalsody(submission_status="TA", submission_status_date="20230101")
        ),
        httpx.Response(200, json=qalsody()),
    ]
    watcher = OpenFdaWatcher(http)
    before = watcher.poll(TOFERSEN, {})
    snapshot = {
        obs.key: StoredObservation(obs, first_seen=T0, last_seen=T0, last_changed=T0)
        for obs in before.observations
    }
    [change] = diff(snapshot, watcher.poll(TOFERSEN, before.meta))
    assert (change.kind, change.key, change.severity) == (
        ChangeKind.UPDATED,
        "NDA215887:ORIG-1",
        Severity.HIGH,
    )
    assert [fc.text for fc in change.field_changes] == [
        "FDA submission status: Tentatively approved (TA) → Approved (AP)",
        "FDA status date: 2023-01-01 → 2023-04-25",
    ]
