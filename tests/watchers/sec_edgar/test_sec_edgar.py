"""SEC EDGAR full-text search: parse recorded payloads (pure) and poll through respx."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.sec_edgar.watcher import (
    SecEdgarWatcher,
    block_page_error,
    is_material_8k,
    parse_filings,
    parse_hits,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sec_edgar"
URL = "https://efts.sec.gov/LATEST/search-index"
ONE_HIT = "sec_efts_search_1_hit_bellingcat.json"
ZERO_HITS = "sec_efts_search_0_hits_bellingcat.json"
TOPIC = Topic("ulefnersen", aliases=("ION363",))
TODAY = date(2026, 11, 29)
CONTACT = "Trialwatch Tests ops@pharma.test"
UNDECLARED = (
    "<html><head><title>SEC.gov | Your Request Originates from an Undeclared Automated Tool"
    "</title></head><body><h1>Your Request Originates from an Undeclared Automated Tool</h1>"
    "<p>To allow for equitable access to all users, SEC reserves the right to limit requests"
    "</p></body></html>"
)  # SYNTH, from the page title SEC is reported to use
RATE = (
    "<html><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head>"
    "<body><h1>Request Rate Threshold Exceeded</h1></body></html>"
)  # SYNTH


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def eight_k(items: list[str], documents: int = 2) -> dict[str, Any]:
    """*derived*: the REAL hit as an 8-K with a press-release exhibit (one hit per document)."""
    doc: dict[str, Any] = load(ONE_HIT)
    [hit] = doc["hits"]["hits"]
    hits = []
    for sequence in range(1, documents + 1):
        copy_ = copy.deepcopy(hit)
        source = copy_["_source"]
        source.update(
            {
                "form": "8-K",
                "root_forms": ["8-K"],
                "items": items,
                "sequence": sequence,
                "file_type": "8-K" if sequence == 1 else "EX-99.1",
                "file_description": "8-K" if sequence == 1 else "Press release",
                "file_date": "2026-09-22",
            }
        )
        copy_["_id"] = f"{source['adsh']}:doc{sequence}.htm"
        hits.append(copy_)
    doc["hits"]["hits"] = hits
    doc["hits"]["total"]["value"] = len(hits)
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


def watcher(http: Http, **kwargs: Any) -> SecEdgarWatcher:
    return SecEdgarWatcher(http, lambda: TODAY, CONTACT, **kwargs)


# --- parse: recorded payloads -------------------------------------------------------------


def test_recorded_hit_as_a_filing() -> None:
    hits, total = parse_hits(load(ONE_HIT))
    assert total == 1
    [obs] = parse_filings(hits, TOPIC, found_by="ION363")
    assert (obs.source, obs.key) == ("sec_edgar", "0000950170-25-055890")
    assert obs.title == "BrightSpring Health Services, Inc. (BTSG, BTSGU) ARS"
    assert obs.url == (
        "https://www.sec.gov/Archives/edgar/data/1865782/000095017025055890/"
        "0000950170-25-055890-index.htm"
    )
    assert obs.fields["company"] == "BrightSpring Health Services, Inc. (BTSG, BTSGU)"
    assert obs.fields["form"] == "ARS"
    assert obs.fields["items"] == ()
    assert obs.fields["filing_date"] == "2025-04-18"
    assert obs.fields["_material_8k"] is False
    assert obs.fields["_statement_by"] == obs.fields["company"]
    assert obs.fields["_claim_note"] == (
        "BrightSpring Health Services, Inc. (BTSG, BTSGU)'s own statement in an SEC filing, "
        "not a regulator's record"
    )
    assert obs.published == datetime(2025, 4, 18, tzinfo=UTC)
    assert obs.matched_alias == "ION363"


def test_recorded_zero_hits() -> None:
    assert parse_hits(load(ZERO_HITS)) == ([], 0)


def test_documents_of_one_filing_make_one_observation() -> None:
    hits, _ = parse_hits(eight_k(["7.01", "9.01"], documents=3))
    [obs] = parse_filings(hits, TOPIC, found_by="ulefnersen")
    assert obs.fields["items"] == ("7.01", "9.01")
    assert obs.fields["_documents"] == ("8-K", "Press release")
    assert obs.title.endswith("8-K (items 7.01, 9.01)")
    assert obs.fields["_material_8k"] is True


@pytest.mark.parametrize(
    ("form", "items", "material"),
    [
        ("8-K", ("8.01",), True),
        ("8-K/A", ("7.01",), True),
        ("8-K", ("2.02", "9.01"), False),
        ("10-Q", ("8.01",), False),
        (None, (), False),
    ],
    ids=["8k-other-events", "8k-amendment-press-release", "8k-results-only", "10q", "no-form"],
)
def test_material_8k(form: str | None, items: tuple[str, ...], material: bool) -> None:
    assert is_material_8k(form, items) is material


def test_answer_without_hits_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"no 'hits\.hits'"):
        parse_hits({"took": 1})


# --- poll: through respx ------------------------------------------------------------------


def test_poll_sends_contact_forms_and_window(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL).mock(return_value=httpx.Response(200, json=eight_k(["8.01"])))
    result = watcher(http).poll(TOPIC, {})
    request = route.calls[0].request
    assert request.headers["User-Agent"] == "Trialwatch Tests ops@pharma.test (trialwatch)"
    params = dict(request.url.params)
    assert params["q"] == '"ulefnersen"'
    assert params["forms"].split(",")[:4] == ["8-K", "8-K/A", "10-Q", "10-Q/A"]
    assert (params["dateRange"], params["startdt"], params["enddt"]) == (
        "custom",
        "2026-10-30",
        "2026-11-29",
    )
    assert route.call_count == 2  # one request per name
    assert [obs.key for obs in result.observations] == ["0000950170-25-055890"]
    assert result.meta == {"through": "2026-11-29"}


def test_poll_pages_with_from(mock: respx.MockRouter, http: Http) -> None:
    page = eight_k(["8.01"])
    page["hits"]["total"]["value"] = 3
    last = load(ZERO_HITS)
    last["hits"]["total"]["value"] = 3
    last["hits"]["hits"] = [eight_k(["8.01"], documents=1)["hits"]["hits"][0]]
    route = mock.get(URL).mock(
        side_effect=lambda r: httpx.Response(200, json=last if "from" in r.url.params else page)
    )
    watcher(http).poll(Topic("ulefnersen"), {})
    assert [dict(c.request.url.params).get("from") for c in route.calls] == [None, "2"]


@pytest.mark.parametrize("status", [200, 403])
def test_undeclared_tool_page_says_what_sec_wants(
    mock: respx.MockRouter, http: Http, status: int
) -> None:
    mock.get(URL).mock(
        return_value=httpx.Response(status, text=UNDECLARED, headers={"content-type": "text/html"})
    )
    with pytest.raises(FetchError, match="User-Agent naming your organisation") as caught:
        watcher(http).poll(TOPIC, {})
    assert caught.value.transient is False


def test_rate_page_is_transient_and_not_retried(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(URL).mock(
        return_value=httpx.Response(403, text=RATE, headers={"content-type": "text/html"})
    )
    with pytest.raises(FetchError, match="at most 10 requests per second") as caught:
        watcher(http).poll(TOPIC, {})
    assert caught.value.transient is True
    assert route.call_count == 1  # hammering SEC extends the block


def test_other_html_is_an_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).mock(return_value=httpx.Response(200, text="<html><body>hi</body></html>"))
    with pytest.raises(FetchError, match="HTML page, not search results"):
        watcher(http).poll(TOPIC, {})


def test_error_key_with_200_is_an_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(URL).mock(
        return_value=httpx.Response(
            200, json={"error": "Blank search not valid", "hits": {"hits": []}}
        )
    )
    with pytest.raises(FetchError, match="Blank search not valid"):
        watcher(http).poll(TOPIC, {})


def test_contact_is_required(http: Http) -> None:
    with pytest.raises(ValueError, match="contact"):
        SecEdgarWatcher(http, lambda: TODAY, "  ")


def test_block_page_error_ignores_json() -> None:
    response = httpx.Response(200, json=load(ZERO_HITS))
    assert block_page_error(response) is None


def test_sec_is_never_asked_more_than_ten_times_a_second(mock: respx.MockRouter) -> None:
    # Even when the configuration paces every host at 1 ms, SEC gets at least 0.125 s.
    clock = FakeClock()
    mock.get(URL).mock(return_value=httpx.Response(200, json=load(ZERO_HITS)))
    with httpx.Client() as client:
        http = Http(client, min_interval=0.001, sleep=clock.sleep, monotonic=clock.monotonic)
        sec = watcher(http)
        for _ in range(4):
            sec.poll(TOPIC, {})  # two requests a poll
    # Eight requests, each after the previous one's 0.125 s slot.
    assert clock.sleeps == pytest.approx([0.125] * 7)


@pytest.mark.parametrize(
    ("contact", "placeholder"),
    [
        ("Your Org ops@your-org.example", True),
        ("Acme ops@example.org", True),
        ("Acme ops@mail.example.com", True),
        ("Acme ops@examples.com", False),
        ("Acme ops@example.co.uk", False),
        ("Ionis Pharmaceuticals it-ops@ionis.com", False),
    ],
    ids=["example-tld", "example-org", "example-subdomain", "examples", "co-uk", "real"],
)
def test_placeholder_contact_sends_nothing(
    mock: respx.MockRouter, http: Http, contact: str, placeholder: bool
) -> None:
    route = mock.get(URL).mock(return_value=httpx.Response(200, json=load(ZERO_HITS)))
    sec = SecEdgarWatcher(http, lambda: TODAY, contact)
    if placeholder:
        with pytest.raises(FetchError, match="example placeholder") as caught:
            sec.poll(TOPIC, {})
        assert caught.value.transient is False
        assert route.call_count == 0
    else:
        sec.poll(TOPIC, {})
        assert route.call_count == 2


@pytest.mark.parametrize(
    ("main", "exhibit"), [("1", 2), ("1", "2"), (1, "2")], ids=["str-int", "str-str", "int-str"]
)
def test_a_sequence_sent_as_a_string_still_picks_the_main_document(
    main: str | int, exhibit: str | int
) -> None:
    # *derived* from the REAL hit: SEC sends `sequence` as 1 or as "1"; the exhibit comes first.
    doc = eight_k(["8.01", "9.01"])
    press, filing = doc["hits"]["hits"][1], doc["hits"]["hits"][0]
    filing["_source"]["sequence"], press["_source"]["sequence"] = main, exhibit
    press["_source"]["form"] = "EX-99.1"  # only the main document names the filing's form
    doc["hits"]["hits"] = [press, filing]
    hits, _ = parse_hits(doc)
    [obs] = parse_filings(hits, TOPIC, found_by="ulefnersen")
    assert obs.fields["form"] == "8-K"
    assert obs.fields["_documents"] == ("8-K", "Press release")
    assert obs.fields["_material_8k"] is True
