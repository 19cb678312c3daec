"""Google News search: the query sent, outlet splitting, fields, conditional GET (respx)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from watchers.feeds.watcher import RULES, RULES_KEY
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.news.watcher import GoogleNewsWatcher, google_news_query, split_outlet
from watchers.text.identity import FINGERPRINTS_KEY

NEWS = Path(__file__).parents[2] / "fixtures" / "news"
FEEDS = Path(__file__).parents[2] / "fixtures" / "feeds"
BASE = "https://news.google.com/rss/search"
ULEF = Topic("ulefnersen", aliases=("jacifusen", "ION363", "ION-363"))
QUERY = '"ulefnersen" OR "jacifusen" OR "ION363" OR "ION-363"'


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:  # unmocked requests fail
        yield router


@pytest.fixture
def news() -> Iterator[GoogleNewsWatcher]:
    with httpx.Client() as client:
        http = Http(client, min_interval=0.0, max_retries=0, sleep=lambda _s: None)
        yield GoogleNewsWatcher(http, BASE)


def google(**headers: str) -> httpx.Response:
    return httpx.Response(200, content=(NEWS / "google_news_rss.xml").read_bytes(), headers=headers)


def test_query_quotes_every_name_and_asks_for_us_english(
    mock: respx.MockRouter, news: GoogleNewsWatcher
) -> None:
    route = mock.get(BASE).mock(return_value=google())
    news.poll(ULEF, {})
    assert dict(route.calls.last.request.url.params) == {
        "q": QUERY,
        "hl": "en-US",
        "gl": "US",
        "ceid": "US:en",
    }


def test_items_become_news_observations(mock: respx.MockRouter, news: GoogleNewsWatcher) -> None:
    mock.get(BASE).mock(return_value=google())
    result = news.poll(ULEF, {})
    assert result.source == "google_news"
    ionis, stat = result.observations
    assert ionis.key == "CBMiswFBVV95cUxNdWxlZm5lcnNlbjE"  # the guid
    assert ionis.url == "https://news.google.com/rss/articles/CBMiswFBVV95cUxNdWxlZm5lcnNlbjE"
    assert ionis.title == (
        "Ionis announces positive topline results from Phase 3 FUSION study of ulefnersen in "
        "FUS-ALS"
    )
    assert ionis.published == datetime(2026, 9, 22, 11, 0, tzinfo=UTC)
    assert ionis.matched_alias == "ulefnersen"
    assert dict(ionis.fields) == {
        "_authority": "news",
        "_outlet": "Business Wire",
        "_summary": None,  # the description only repeats the headline and the outlet
        "_claim": None,  # topline results are not a regulatory action
        "_regulator": None,
        "_safety": False,
        "_matched_in": "headline",
        "_excerpt": None,
    }
    # The search matched it, so it is kept even though the headline names no alias.
    assert stat.title == "Antisense drug slows rare, aggressive form of ALS in pivotal trial"
    assert stat.fields["_outlet"] == "STAT"
    assert stat.matched_alias is None
    assert stat.fields["_matched_in"] is None  # nothing to say where: the search saw it


SPLITS = {
    "source matches the suffix": (
        "Drug wins FDA nod - STAT",
        "STAT",
        ("Drug wins FDA nod", "STAT"),
    ),
    "hyphenated outlet": (
        "Ionis gains - Fierce Biotech - Pharma",
        "Fierce Biotech - Pharma",
        ("Ionis gains", "Fierce Biotech - Pharma"),
    ),
    "dash inside the headline": (
        "ION-363 - a new hope - Reuters",
        "Reuters",
        ("ION-363 - a new hope", "Reuters"),
    ),
    "no source element: last dash": (
        "Headline - Endpoints News",
        None,
        ("Headline", "Endpoints News"),
    ),
    "source differs from suffix": (
        "Headline - endpts.com",
        "Endpoints News",
        ("Headline", "Endpoints News"),
    ),
    "no suffix at all": ("Just a headline", "STAT", ("Just a headline", "STAT")),
    "title is only the outlet": (" - STAT", "STAT", (" - STAT", "STAT")),
}


@pytest.mark.parametrize(("title", "source", "expected"), SPLITS.values(), ids=SPLITS.keys())
def test_split_outlet(title: str, source: str | None, expected: tuple[str, str | None]) -> None:
    assert split_outlet(title, source) == expected


def test_claims_are_read_from_the_headline_without_the_outlet(
    mock: respx.MockRouter, news: GoogleNewsWatcher
) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>q</title><item>'
        "<title>FDA approves Ionis ALS drug ulefnersen - Reuters</title>"
        "<link>https://news.google.com/rss/articles/CBMiA?oc=5</link>"
        '<guid isPermaLink="false">CBMiA</guid><source url="https://www.reuters.com">Reuters</source>'
        "</item></channel></rss>"
    )
    mock.get(BASE).respond(200, text=body)
    [item] = news.poll(ULEF, {}).observations
    assert (item.fields["_claim"], item.fields["_regulator"]) == ("approval", "FDA")
    assert item.fields["_authority"] == "news"


def test_no_results_is_a_valid_empty_result(
    mock: respx.MockRouter, news: GoogleNewsWatcher
) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0"><channel>'
        "<title>q - Google News</title><description>Google News</description></channel></rss>"
    )
    mock.get(BASE).respond(200, text=body)
    result = news.poll(ULEF, {})
    assert (result.observations, result.unchanged) == ((), False)


def test_304_is_unchanged(mock: respx.MockRouter, news: GoogleNewsWatcher) -> None:
    route = mock.get(BASE)
    route.side_effect = [google(ETag='"g1"'), httpx.Response(304)]
    first = news.poll(ULEF, {})
    key = f"etag {BASE}?q=%22ulefnersen%22+OR+%22jacifusen%22+OR+%22ION363%22+OR+%22ION-363%22"
    assert first.meta == {
        f"{key}&hl=en-US&gl=US&ceid=US%3Aen": '"g1"',
        "query": QUERY,
        FINGERPRINTS_KEY: first.meta[FINGERPRINTS_KEY],  # keys by content (identity.py)
        RULES_KEY: RULES,  # the matching and identity rules the items were found by
    }
    second = news.poll(ULEF, first.meta)
    assert second.unchanged
    assert second.meta == first.meta
    assert route.calls.last.request.headers["If-None-Match"] == '"g1"'


def test_html_page_and_http_errors_are_failures(
    mock: respx.MockRouter, news: GoogleNewsWatcher
) -> None:
    html = (FEEDS / "fda_access_denied_200_synth.html").read_bytes()
    mock.get(BASE).side_effect = [httpx.Response(200, content=html), httpx.Response(503)]
    with pytest.raises(ParseError, match=r"^Google News \(news.google.com/rss/search\): expected"):
        news.poll(ULEF, {})
    with pytest.raises(FetchError, match="HTTP 503") as caught:
        news.poll(ULEF, {})
    assert caught.value.transient is True
    assert "ulefnersen" not in str(caught.value)  # the query string stays out of messages


def test_query_strips_quotes_from_names() -> None:
    assert google_news_query(('the "X" drug', "ION363")) == '"the X drug" OR "ION363"'


def test_trial_numbers_are_searched_and_shown_as_the_match(
    mock: respx.MockRouter, news: GoogleNewsWatcher
) -> None:
    item = (
        "<item><title>Update on NCT04768972 - Fierce Biotech</title>"
        "<link>https://news.google.com/rss/articles/CBMiNct?oc=5</link>"
        '<guid isPermaLink="false">CBMiNct</guid>'
        '<source url="https://www.fiercebiotech.com">Fierce Biotech</source></item>'
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{item}</channel></rss>'
    )
    route = mock.get(BASE).respond(200, content=body.encode())
    topic = Topic("ulefnersen", trials=("NCT04768972",), eu_trials=("2020-005522-28",))
    [obs] = news.poll(topic, {}).observations
    assert route.calls.last.request.url.params["q"] == (
        '"ulefnersen" OR "NCT04768972" OR "2020-005522-28"'
    )
    assert (obs.matched_alias, obs.fields["_matched_in"]) == ("NCT04768972", "headline")
