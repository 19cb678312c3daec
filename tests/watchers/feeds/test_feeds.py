"""FeedWatcher through a mocked feed (respx): alias filter, fields, conditional GET, caching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from watchers.feeds.watcher import RULES, RULES_KEY, FeedWatcher, names_fingerprint
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http
from watchers.text.identity import FINGERPRINTS_KEY

FEEDS = Path(__file__).parents[2] / "fixtures" / "feeds"
FDA_URL = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
EMA_URL = "https://www.ema.europa.eu/en/news.xml"
MEDWATCH_URL = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/medwatch/rss.xml"
ULEF = Topic("ulefnersen", aliases=("jacifusen", "ION363", "ION-363"), conditions=("FUS-ALS",))
LOSARTAN = Topic("losartan")
APPROVAL_PAGE = (
    "https://www.fda.gov/news-events/press-announcements/"
    "fda-approves-first-treatment-adults-and-children-als-caused-fus-gene-mutations"
)


def feed(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, content=(FEEDS / name).read_bytes(), headers=headers)


class Ticks:
    """Monotonic time that moves only when told to; sleeping is recorded, never done."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def http(ticks: Ticks) -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=1, sleep=ticks.sleep, monotonic=ticks)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:  # unmocked requests fail
        yield router


def watcher(
    http: Http,
    ticks: Ticks,
    name: str = "FDA press releases",
    url: str = FDA_URL,
    authority: str = "FDA",
) -> FeedWatcher:
    return FeedWatcher(http, name, url, authority, cache_seconds=300, clock=ticks)


def test_only_items_naming_the_topic_become_observations(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    mock.get(FDA_URL).mock(return_value=feed("fda_press_releases_ulefnersen_derived.xml"))
    result = watcher(http, ticks).poll(ULEF, {})
    # Item 2 says "fusion protein" and "ION3630"; item 3 names nothing: both are left out.
    assert [(o.key, o.matched_alias) for o in result.observations] == [
        (APPROVAL_PAGE, "ulefnersen"),  # named in the description only
        ("https://www.fda.gov/news-events/press-announcements/orphan-ion-363", "ION363"),
    ]
    approval = result.observations[0]
    assert (approval.source, approval.topic) == ("feed:FDA press releases", "ulefnersen")
    assert approval.title == (
        "FDA Approves First Treatment for Adults and Children with ALS Caused by FUS Gene Mutations"
    )
    assert approval.url == APPROVAL_PAGE
    assert approval.published == datetime(2026, 7, 14, 21, 5, tzinfo=UTC)
    assert dict(approval.fields) == {
        "_authority": "FDA",
        "_outlet": "FDA",
        "_summary": (
            "The U.S. Food and Drug Administration today approved Ulefnersen (formerly "
            "jacifusen), an antisense oligonucleotide for the treatment of amyotrophic lateral "
            "sclerosis (ALS) in patients with a mutation in the fused in sarcoma (FUS) gene."
        ),
        "_claim": "approval",
        "_regulator": "FDA",
        "_safety": False,
        "_matched_in": "text",
        "_excerpt": (
            "The U.S. Food and Drug Administration today approved Ulefnersen (formerly "
            "jacifusen), an antisense oligonucleotide for the treatment of…"
        ),
    }
    orphan = result.observations[1]
    assert orphan.fields["_matched_in"] == "headline"
    assert orphan.fields["_claim"] is None  # a designation is not an approval
    assert orphan.fields["_summary"] is None  # <description />
    assert all(name.startswith("_") for o in result.observations for name in o.fields)


def test_a_feed_with_nothing_on_the_topic_is_an_empty_result(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    mock.get(FDA_URL).mock(return_value=feed("fda_press_releases_rss.xml"))
    result = watcher(http, ticks).poll(ULEF, {})  # the FUS item names no drug
    assert result.observations == ()
    assert not result.unchanged


def test_agency_summary_is_read_for_claims(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    mock.get(EMA_URL).mock(return_value=feed("ema_news_rss_ulefnersen_derived.xml"))
    [item] = watcher(http, ticks, "EMA news", EMA_URL, "EMA").poll(ULEF, {}).observations
    assert item.title == "New treatment for rare form of amyotrophic lateral sclerosis"
    assert (item.fields["_claim"], item.fields["_regulator"]) == ("chmp_positive", "EMA")
    assert item.fields["_outlet"] == "EMA"


def test_company_feed_outlet_is_the_feed_name(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    url = "https://ir.example.com/rss/news-releases.xml"
    mock.get(url).mock(return_value=feed("company_ir_atom_synth.xml"))
    [item] = watcher(http, ticks, "Example IR", url, "company").poll(ULEF, {}).observations
    assert item.fields["_outlet"] == "Example IR"
    assert item.fields["_claim"] == "chmp_positive"  # from the headline


def test_medwatch_items_are_safety_communications(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    mock.get(MEDWATCH_URL).mock(return_value=feed("fda_drug_recalls_rss_2019_prof18.xml"))
    medwatch = watcher(http, ticks, "FDA MedWatch safety alerts", MEDWATCH_URL)
    [item] = medwatch.poll(LOSARTAN, {}).observations
    assert item.fields["_safety"] is True
    assert item.published == datetime(2019, 5, 3, 19, 21, 28, tzinfo=UTC)


def test_a_recall_headline_is_a_safety_communication_in_any_feed(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    url = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/drugs/rss.xml"
    mock.get(url).mock(return_value=feed("fda_drug_recalls_rss_2019_prof18.xml"))
    [item] = watcher(http, ticks, "FDA drugs", url).poll(LOSARTAN, {}).observations
    assert item.fields["_safety"] is True


def test_zero_items_is_a_valid_empty_result(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    mock.get(MEDWATCH_URL).mock(return_value=feed("fda_medwatch_zero_items_derived.xml"))
    result = watcher(http, ticks, "MedWatch", MEDWATCH_URL).poll(ULEF, {})
    assert (result.observations, result.unchanged) == ((), False)


# --- failures ------------------------------------------------------------------------------

FAILURES = {
    "401": (httpx.Response(401), FetchError, False, "answered HTTP 401"),
    "403": (httpx.Response(403), FetchError, False, "answered HTTP 403"),
    "404": (httpx.Response(404, html="<h1>Not found</h1>"), FetchError, False, "HTTP 404"),
    "500 after a retry": (httpx.Response(500), FetchError, True, "HTTP 500 for /about-fda"),
    "html page with 200": (
        feed("fda_access_denied_200_synth.html", **{"Content-Type": "text/html"}),
        ParseError,
        False,
        "expected an RSS or Atom feed, got something else ('<HTML><HEAD> <TITLE>Access Denied",
    ),
    "truncated xml": (
        httpx.Response(200, content=(FEEDS / "fda_press_releases_rss.xml").read_bytes()[:900]),
        ParseError,
        False,
        "not a well-formed feed",
    ),
}


@pytest.mark.parametrize(
    ("response", "error", "transient", "message"), FAILURES.values(), ids=FAILURES.keys()
)
def test_failures_are_errors_never_empty_results(
    mock: respx.MockRouter,
    http: Http,
    ticks: Ticks,
    response: httpx.Response,
    error: type[Exception],
    transient: bool,
    message: str,
) -> None:
    mock.get(FDA_URL).mock(return_value=response)
    with pytest.raises(error) as caught:
        watcher(http, ticks).poll(ULEF, {})
    assert message in str(caught.value)
    assert getattr(caught.value, "transient", None) is transient


# --- conditional GET and the per-cycle cache -------------------------------------------------

ETAG = {"ETag": '"v1"', "Last-Modified": "Tue, 14 Jul 2026 21:10:00 GMT"}


def test_304_is_unchanged_and_keeps_the_whole_meta(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    route = mock.get(FDA_URL)
    route.side_effect = [
        feed("fda_press_releases_ulefnersen_derived.xml", **ETAG),
        httpx.Response(304),
    ]
    first = watcher(http, ticks).poll(ULEF, {})
    assert first.meta == {
        f"etag {FDA_URL}": '"v1"',
        f"last-modified {FDA_URL}": "Tue, 14 Jul 2026 21:10:00 GMT",
        "names": names_fingerprint(ULEF),
        # the keys given to each item's content, for feeds that rotate GUIDs (identity.py)
        FINGERPRINTS_KEY: first.meta[FINGERPRINTS_KEY],
        RULES_KEY: RULES,  # the matching and identity rules the items were found by
    }
    assert len(json.loads(first.meta[FINGERPRINTS_KEY])) == len(first.observations)
    ticks.now += 1800  # the next cycle, in a new process or after the cache expired
    second = watcher(http, ticks).poll(ULEF, first.meta)
    assert second.unchanged
    assert second.observations == ()
    assert second.meta == first.meta
    sent = route.calls.last.request.headers
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == (
        '"v1"',
        "Tue, 14 Jul 2026 21:10:00 GMT",
    )


def test_new_names_read_the_feed_in_full(mock: respx.MockRouter, http: Http, ticks: Ticks) -> None:
    route = mock.get(FDA_URL).mock(return_value=feed("fda_press_releases_ulefnersen_derived.xml"))
    old_meta = {f"etag {FDA_URL}": '"v1"', "names": names_fingerprint(Topic("ulefnersen"))}
    result = watcher(http, ticks).poll(ULEF, old_meta)  # an alias was added since
    assert "If-None-Match" not in route.calls.last.request.headers
    assert len(result.observations) == 2
    assert result.meta.keys() == {"names", FINGERPRINTS_KEY, RULES_KEY}  # no validators sent back
    assert result.meta["names"] == names_fingerprint(ULEF)


def test_two_topics_share_one_request_per_cycle(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    route = mock.get(FDA_URL).mock(return_value=feed("fda_press_releases_ulefnersen_derived.xml"))
    fda = watcher(http, ticks)
    assert len(fda.poll(ULEF, {}).observations) == 2
    ticks.now += 60
    assert fda.poll(LOSARTAN, {}).observations == ()  # parsed from the same bytes
    assert route.call_count == 1
    ticks.now += 300  # the cache has expired: the next cycle asks again
    fda.poll(ULEF, {})
    assert route.call_count == 2


def test_a_304_for_one_topic_answers_the_other_without_a_request(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    route = mock.get(FDA_URL)
    route.side_effect = [
        feed("fda_press_releases_ulefnersen_derived.xml", **ETAG),
        httpx.Response(304),
    ]
    cycle1 = watcher(http, ticks)
    meta_ulef = cycle1.poll(ULEF, {}).meta
    meta_losartan = cycle1.poll(LOSARTAN, {}).meta
    cycle2 = watcher(http, ticks)  # `trialwatch check` runs once per process
    assert cycle2.poll(ULEF, meta_ulef).unchanged
    assert cycle2.poll(LOSARTAN, meta_losartan).unchanged
    assert route.call_count == 2  # one per cycle


def test_a_topic_behind_the_others_gets_the_body_after_their_304(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    route = mock.get(FDA_URL)
    route.side_effect = [
        httpx.Response(304),
        feed("fda_press_releases_ulefnersen_derived.xml", **ETAG),
    ]
    fda = watcher(http, ticks)
    up_to_date = {f"etag {FDA_URL}": '"v1"', "names": names_fingerprint(LOSARTAN)}
    assert fda.poll(LOSARTAN, up_to_date).unchanged
    result = fda.poll(ULEF, {})  # a new topic: it has never seen the feed
    assert len(result.observations) == 2
    assert route.call_count == 2
    assert "If-None-Match" not in route.calls.last.request.headers


def test_a_failed_fetch_is_not_repeated_for_the_next_topic(
    mock: respx.MockRouter, http: Http, ticks: Ticks
) -> None:
    route = mock.get(FDA_URL).mock(return_value=httpx.Response(403))
    fda = watcher(http, ticks)
    for topic in (ULEF, LOSARTAN):
        with pytest.raises(FetchError, match="HTTP 403") as caught:
            fda.poll(topic, {})
        assert caught.value.transient is False
    assert route.call_count == 1
