"""PubMed: esearch then esummary for new PMIDs only; rate limits; empty searches (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.pubmed.watcher import PubMedWatcher, parse_esearch, parse_summary, pubmed_term

NEWS = Path(__file__).parents[2] / "fixtures" / "news"
BASE = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
ESEARCH = f"{BASE}/esearch.fcgi"
ESUMMARY = f"{BASE}/esummary.fcgi"
ULEF = Topic("ulefnersen", aliases=("jacifusen", "ION363", "ION-363"), conditions=("FUS-ALS",))
KEY = "0123456789abcdef0123456789abcdef0123"  # not a real key


def load(name: str) -> Any:
    return json.loads((NEWS / name).read_text(encoding="utf-8"))


def summaries(*pmids: str) -> dict[str, Any]:
    """An esummary answer for `pmids`, each a copy of the fixture record with its own uid."""
    template = load("pubmed_esummary.json")["result"]["41000003"]
    result: dict[str, Any] = {"uids": list(pmids)}
    for pmid in pmids:
        result[pmid] = {**template, "uid": pmid, "title": f"Paper {pmid} on ION363."}
    return {"header": {"type": "esummary", "version": "0.3"}, "result": result}


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:  # unmocked requests fail
        yield router


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(sleeps: list[float]) -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=1, sleep=sleeps.append)


def test_term_quotes_names_with_hyphens_or_spaces() -> None:
    assert pubmed_term(ULEF.names) == 'ulefnersen OR jacifusen OR ION363 OR "ION-363"'
    assert pubmed_term(("Toca 511", 'a"b')) == '"Toca 511" OR "a b"'


def test_parse_summary_fields() -> None:
    record = load("pubmed_esummary.json")["result"]["41000003"]
    paper = parse_summary(record, ULEF)
    assert (paper.source, paper.key, paper.topic) == ("pubmed", "41000003", "ulefnersen")
    assert paper.url == "https://pubmed.ncbi.nlm.nih.gov/41000003/"
    assert paper.title == "Antisense Oligonucleotide Therapy for FUS-ALS."
    assert paper.published == datetime(2026, 10, 2, tzinfo=UTC)
    assert paper.matched_alias is None  # found by the search; no name in the title
    assert dict(paper.fields) == {
        "_authority": "literature",
        "_outlet": "N Engl J Med",
        "_journal": "The New England journal of medicine",
        "_doi": "10.1056/NEJMoa2600000",
        "_summary": "Example A, Sample B. 2026 Oct 2.",
        "_claim": None,
        "_regulator": None,
        "_safety": False,
    }


def test_parse_real_esearch() -> None:
    assert parse_esearch(load("pubmed_esearch_biomcp.json")) == ["18033691"]
    assert parse_esearch(load("pubmed_esearch_empty.json")) == []


def test_first_poll_summarises_every_hit_then_only_new_ones(
    mock: respx.MockRouter, http: Http
) -> None:
    search = mock.get(ESEARCH).mock(
        return_value=httpx.Response(200, json=load("pubmed_esearch.json"))
    )
    summary = mock.get(ESUMMARY).mock(
        return_value=httpx.Response(200, json=summaries("41000003", "41000002", "41000001"))
    )
    watcher = PubMedWatcher(http, BASE)
    first = watcher.poll(ULEF, {})
    assert [p.key for p in first.observations] == ["41000003", "41000002", "41000001"]
    assert first.meta == {"pmids": "41000003,41000002,41000001"}
    params = search.calls.last.request.url.params
    assert dict(params) == {
        "db": "pubmed",
        "term": 'ulefnersen OR jacifusen OR ION363 OR "ION-363"',
        "sort": "pub_date",
        "retmax": "100",
        "retmode": "json",
        "tool": "trialwatch",
    }
    assert summary.calls.last.request.url.params["id"] == "41000003,41000002,41000001"

    # Unchanged search: one request, nothing summarised, the meta kept whole.
    again = watcher.poll(ULEF, first.meta)
    assert again.unchanged
    assert again.meta == first.meta
    assert (search.call_count, summary.call_count) == (2, 1)

    # One new paper: only it is summarised.
    newer = {"esearchresult": {"count": "4", "idlist": ["41000004", "41000003", "41000002"]}}
    search.mock(return_value=httpx.Response(200, json=newer))
    summary.mock(return_value=httpx.Response(200, json=summaries("41000004")))
    third = watcher.poll(ULEF, first.meta)
    assert [p.key for p in third.observations] == ["41000004"]
    assert summary.calls.last.request.url.params["id"] == "41000004"
    assert third.meta == {"pmids": "41000004,41000003,41000002,41000001"}
    assert not third.unchanged


def test_a_pmid_without_a_summary_is_asked_for_again(mock: respx.MockRouter, http: Http) -> None:
    mock.get(ESEARCH).mock(return_value=httpx.Response(200, json=load("pubmed_esearch.json")))
    partial = summaries("41000003")
    partial["result"]["uids"] += ["41000002"]  # listed, but no record for it
    mock.get(ESUMMARY).mock(return_value=httpx.Response(200, json=partial))
    result = PubMedWatcher(http, BASE).poll(ULEF, {})
    assert [p.key for p in result.observations] == ["41000003"]
    assert result.meta == {"pmids": "41000003"}


def test_empty_search_is_a_valid_empty_result(mock: respx.MockRouter, http: Http) -> None:
    mock.get(ESEARCH).mock(return_value=httpx.Response(200, json=load("pubmed_esearch_empty.json")))
    result = PubMedWatcher(http, BASE).poll(ULEF, {})
    assert result.observations == ()
    assert result.meta == {"pmids": ""}


RATE_LIMITED = {
    "429": [httpx.Response(429, json=load("pubmed_rate_limited_biomcp.json"))] * 2,
    "200 with an error body": [httpx.Response(200, json=load("pubmed_rate_limited_biomcp.json"))],
}


@pytest.mark.parametrize("responses", RATE_LIMITED.values(), ids=RATE_LIMITED.keys())
def test_rate_limit_is_a_transient_failure_that_never_leaks_the_key(
    mock: respx.MockRouter, http: Http, responses: list[httpx.Response]
) -> None:
    route = mock.get(ESEARCH)
    route.side_effect = responses
    with pytest.raises(FetchError) as caught:
        PubMedWatcher(http, BASE, api_key=KEY).poll(ULEF, {})
    assert caught.value.transient is True
    assert KEY not in str(caught.value)
    assert route.calls.last.request.url.params["api_key"] == KEY


def test_api_key_is_not_in_an_http_error(mock: respx.MockRouter, http: Http) -> None:
    mock.get(ESEARCH).respond(
        400, json={"error": f"bad request for api_key={KEY}"}, headers={"Content-Type": "json"}
    )
    with pytest.raises(FetchError) as caught:
        PubMedWatcher(http, BASE, api_key=KEY).poll(ULEF, {})
    assert "HTTP 400" in str(caught.value)
    assert KEY not in str(caught.value)


def test_api_key_is_not_in_a_network_error(mock: respx.MockRouter, http: Http) -> None:
    failure = httpx.ConnectError(f"cannot connect to {ESEARCH}?db=pubmed&api_key={KEY}")
    mock.get(ESEARCH).mock(side_effect=failure)
    with pytest.raises(FetchError, match="did not answer") as caught:
        PubMedWatcher(http, BASE, api_key=KEY).poll(ULEF, {})
    assert KEY not in str(caught.value)


def test_unreadable_answers_are_parse_errors(mock: respx.MockRouter, http: Http) -> None:
    mock.get(ESEARCH).side_effect = [
        httpx.Response(200, html="<html>Service unavailable</html>"),
        httpx.Response(200, json={"header": {}, "esearchresult": {"count": "1"}}),
    ]
    watcher = PubMedWatcher(http, BASE)
    with pytest.raises(ParseError, match="expected JSON"):
        watcher.poll(ULEF, {})
    with pytest.raises(ParseError, match="'idlist' is not a list of PMIDs"):
        watcher.poll(ULEF, {})
