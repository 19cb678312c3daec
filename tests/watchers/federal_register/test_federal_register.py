"""Federal Register: parse recorded payloads (pure) and poll through a mocked API (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.federal_register.watcher import (
    FederalRegisterWatcher,
    is_meeting_notice,
    meeting_date,
    parse_document,
    parse_search,
)
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parents[2] / "fixtures" / "federal_register"
BASE = "https://www.federalregister.gov/api/v1"
ULEFNERSEN = Topic("ulefnersen", aliases=("ION363",), conditions=("Amyotrophic Lateral Sclerosis",))
TODAY = date(2026, 11, 29)
FDA_AGENCIES = [
    {"raw_name": "DEPARTMENT OF HEALTH AND HUMAN SERVICES", "name": "Health and Human Services "
     "Department", "slug": "health-and-human-services-department"},
    {"raw_name": "Food and Drug Administration", "name": "Food and Drug Administration",
     "slug": "food-and-drug-administration"},
]  # fmt: skip


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def full_document() -> dict[str, Any]:
    """The REAL full-field document (an EPA rule)."""
    doc: dict[str, Any] = load("federal_register_documents_batch_not_found_swiftfr.json")[
        "results"
    ][0]
    return doc


def adcom_notice(about: str = "ulefnersen", dates: str | None = None) -> dict[str, Any]:
    """*derived*: the REAL full-field document turned into an FDA advisory committee notice."""
    doc = full_document()
    doc.update(
        {
            "title": "Peripheral and Central Nervous System Drugs Advisory Committee; Notice of "
            "Meeting; Establishment of a Public Docket; Request for Comments",
            "type": "Notice",
            "action": "Notice.",
            "abstract": "The Food and Drug Administration (FDA) announces a forthcoming public "
            f"advisory committee meeting. The committee will discuss an application for {about}.",
            "dates": dates
            or "The meeting will be held virtually on March 5 and 6, 2027, from 9 a.m. to 5 p.m.",
            "agencies": FDA_AGENCIES,
            "document_number": "2027-01234",
            "publication_date": "2027-01-15",
            "html_url": "https://www.federalregister.gov/documents/2027/01/15/2027-01234/x",
        }
    )
    return doc


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


def test_recorded_page_with_cursor() -> None:
    docs, next_url = parse_search(load("federal_register_documents_newest_page1_swiftfr.json"))
    assert [d["document_number"] for d in docs] == ["2024-31440", "2024-31439"]
    assert next_url is not None and "search_after_cursor=" in next_url


def test_recorded_zero_results_has_no_results_key() -> None:
    assert parse_search(load("federal_register_documents_zero_results_swiftfr.json")) == ([], None)


def test_recorded_error_body_is_not_a_result() -> None:
    with pytest.raises(ParseError, match="no 'results'"):
        parse_search(load("federal_register_error_400_invalid_cursor_swiftfr.json"))


def test_recorded_document_found_by_term() -> None:
    obs = parse_document(full_document(), ULEFNERSEN, found_by="ulefnersen")
    assert obs is not None
    assert (obs.source, obs.key) == ("federal_register", "2024-31396@2024-12-31")
    assert (
        obs.title == "Air Plan Revisions; California; Feather River Air Quality Management District"
    )
    assert obs.url.startswith("https://www.federalregister.gov/documents/2024/12/31/2024-31396/")
    assert obs.published == datetime(2024, 12, 31, tzinfo=UTC)
    assert obs.fields["document_type"] == "Rule"
    assert obs.fields["_citation"] == "89 FR 107012"
    assert obs.fields["_meeting_notice"] is False
    assert obs.fields["meeting_date"] is None
    assert obs.fields["_claim_note"] is None
    assert obs.matched_alias == "ulefnersen"  # matched in the full text by the registry


def test_recorded_document_without_a_topic_word_is_not_a_notice_match() -> None:
    assert parse_document(full_document(), ULEFNERSEN) is None
    assert is_meeting_notice(full_document()) is False


def test_shape_document_names_the_drug_in_its_excerpt() -> None:
    [doc] = load("federal_register_documents_SHAPE.json")["results"]
    obs = parse_document(doc, ULEFNERSEN)
    assert obs is not None and obs.matched_alias == "ulefnersen"
    assert obs.fields["_agencies"] == (
        "Health and Human Services Department",
        "Food and Drug Administration",
    )


def test_adcom_notice_about_the_drug() -> None:
    obs = parse_document(adcom_notice(), ULEFNERSEN)
    assert obs is not None
    assert obs.fields["_meeting_notice"] is True
    assert obs.fields["_about_drug"] is True
    assert obs.fields["meeting_date"] == "2027-03-05"
    assert "never of an approval" in str(obs.fields["_claim_note"])
    assert obs.fields["_dates"] == (
        "The meeting will be held virtually on March 5 and 6, 2027, from 9 a.m. to 5 p.m."
    )


def test_adcom_notice_about_the_condition_only() -> None:
    doc = adcom_notice(about="another drug for amyotrophic lateral sclerosis")
    obs = parse_document(doc, ULEFNERSEN)
    assert obs is not None
    assert obs.matched_alias == "Amyotrophic Lateral Sclerosis"
    assert obs.fields["_about_drug"] is False


def test_adcom_notice_about_something_else_is_dropped() -> None:
    assert parse_document(adcom_notice(about="an asthma inhaler"), ULEFNERSEN) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The meeting will be held on January 30, 2025, from 9 a.m. to 5 p.m.", "2025-01-30"),
        ("The meeting will be held on May 2-3, 2027.", "2027-05-02"),
        ("The meeting will be held on June 4 through 5, 2027.", "2027-06-04"),
        ("Comments are due 30 days after publication.", None),
        ("The meeting will be held on February 30, 2027.", None),
    ],
    ids=["one-day", "range", "through", "no-date", "impossible-day"],
)
def test_meeting_date(text: str, expected: str | None) -> None:
    assert meeting_date(text) == expected


def test_renewal_is_not_a_meeting_notice() -> None:
    doc = adcom_notice()
    doc["title"] = "Peripheral and Central Nervous System Drugs Advisory Committee; Renewal"
    assert is_meeting_notice(doc) is False


# --- poll: through respx ------------------------------------------------------------------


def _query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(str(request.url)).query)


def test_poll_one_term_per_request_plus_the_notices(mock: respx.MockRouter, http: Http) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        query = dict(_query(request))
        if query.get("conditions[agencies][]") == "food-and-drug-administration":
            return httpx.Response(200, json={"count": 1, "results": [adcom_notice()]})
        return httpx.Response(
            200, json=load("federal_register_documents_zero_results_swiftfr.json")
        )

    route = mock.get(f"{BASE}/documents.json").mock(side_effect=answer)
    result = FederalRegisterWatcher(http, lambda: TODAY).poll(ULEFNERSEN, {})
    terms = [dict(_query(call.request)).get("conditions[term]") for call in route.calls]
    assert terms == ['"ulefnersen"', '"ION363"', '"Notice of Meeting"']
    first = _query(route.calls[0].request)
    assert ("conditions[publication_date][gte]", "2026-08-31") in first  # 90 days back
    assert ("fields[]", "dates") in first
    assert [obs.key for obs in result.observations] == ["2027-01234@2027-01-15"]
    assert result.meta == {"through": "2026-11-29"}


def test_poll_follows_next_page_url_on_our_base(mock: respx.MockRouter, http: Http) -> None:
    page1 = load("federal_register_documents_newest_page1_swiftfr.json")
    page2 = load("federal_register_documents_newest_page2_cursor_swiftfr.json")
    page2.pop("next_page_url")  # the last page
    mirror = "http://127.0.0.1:9/fr/api/v1"
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        query = dict(_query(request))
        if "search_after_cursor" in query:  # the recorded cursor URL
            return httpx.Response(200, json=page2)
        if query.get("conditions[term]") != '"ulefnersen"':
            return httpx.Response(200, json={"count": 0})
        return httpx.Response(200, json=page1)

    mock.get(f"{mirror}/documents.json").mock(side_effect=answer)
    topic = Topic("ulefnersen")
    result = FederalRegisterWatcher(http, lambda: TODAY, base_url=mirror).poll(topic, {})
    assert len(result.observations) == 4
    assert all(url.startswith(mirror) for url in seen)


def test_long_outage_widens_the_window(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(f"{BASE}/documents.json").mock(
        return_value=httpx.Response(200, json={"count": 0})
    )
    FederalRegisterWatcher(http, lambda: TODAY).poll(Topic("x"), {"through": "2026-06-01"})
    assert ("conditions[publication_date][gte]", "2026-05-31") in _query(route.calls[0].request)


def test_html_answer_is_an_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(f"{BASE}/documents.json").mock(
        return_value=httpx.Response(
            200, text="<html>maintenance</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ParseError, match="Federal Register search: expected JSON"):
        FederalRegisterWatcher(http, lambda: TODAY).poll(ULEFNERSEN, {})


def test_recorded_400_is_a_clear_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(f"{BASE}/documents.json").mock(
        return_value=httpx.Response(
            400, json=load("federal_register_error_400_invalid_cursor_swiftfr.json")
        )
    )
    with pytest.raises(FetchError, match=r"HTTP 400.*Invalid search_after_cursor token"):
        FederalRegisterWatcher(http, lambda: TODAY).poll(ULEFNERSEN, {})


def test_endless_paging_is_too_broad(mock: respx.MockRouter, http: Http) -> None:
    page1 = load("federal_register_documents_newest_page1_swiftfr.json")
    mock.get(f"{BASE}/documents.json").mock(return_value=httpx.Response(200, json=page1))
    with pytest.raises(FetchError, match="too broad"):
        FederalRegisterWatcher(http, lambda: TODAY, max_pages=3).poll(Topic("x"), {})
