"""Requests per unchanged poll cycle, with and without conditional requests (respx, no network).

Run: `python bench/requests_per_cycle.py`. Serves the test fixtures from a mocked web, runs a
baseline cycle and then an unchanged one, and counts the second cycle's requests per source,
for 1 and 2 topics, under three set-ups:

  plain   every topic fetches every source in full (no validators, no feed cache, no probe)
  cache   feeds fetched once per cycle for all topics (in-memory cache), nothing else
  all     + conditional GET (ETag/If-None-Match -> 304) + the ClinicalTrials.gov /version probe

The mocked servers send an ETag and honour If-None-Match in "all" only. Whether Google News
and the FDA/EMA edges really answer 304 is not verified (docs/sources.md#fda-feeds, #google-news):
"all" is the best
case for them, "cache" the worst. Poll meta is kept as the store keeps it: a non-empty
`SourceResult.meta` replaces the stored one.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import respx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watchers.base import Watcher  # noqa: E402
from watchers.ctgov.watcher import ClinicalTrialsWatcher  # noqa: E402
from watchers.feeds.watcher import FeedWatcher  # noqa: E402
from watchers.model import Topic  # noqa: E402
from watchers.net.http import Http  # noqa: E402
from watchers.news.watcher import GoogleNewsWatcher  # noqa: E402
from watchers.pubmed.watcher import PubMedWatcher  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
CTGOV = "https://clinicaltrials.gov/api/v2"
FDA = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
EMA = "https://www.ema.europa.eu/en/news.xml"
GOOGLE = "https://news.google.com/rss/search"
EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
TOPICS = (
    Topic("ulefnersen", ("jacifusen", "ION363", "ION-363"), ("NCT04768972",), ("FUS-ALS",)),
    Topic("tofersen", ("Qalsody", "BIIB067"), (), ("SOD1-ALS",)),
)
SOURCES = ("ClinicalTrials.gov", "FDA press releases", "EMA news", "Google News", "PubMed")
SETUPS = ("plain", "cache", "all")


@dataclass
class Web:
    """The mocked sources: fixture bodies, optional validators, a request counter."""

    conditional: bool
    requests: Counter[str]
    received: Counter[str]

    def serve(self, label: str, body: bytes, request: httpx.Request) -> httpx.Response:
        self.requests[label] += 1
        etag = f'"{hashlib.sha256(body).hexdigest()[:12]}"'
        if self.conditional and request.headers.get("If-None-Match") == etag:
            return httpx.Response(304)
        self.received[label] += len(body)
        return httpx.Response(200, content=body, headers={"ETag": etag} if self.conditional else {})

    def route(self, label: str, body: bytes) -> Callable[[httpx.Request], httpx.Response]:
        return lambda request: self.serve(label, body, request)


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def summaries(pmids: list[str]) -> dict[str, object]:
    """An esummary answer for every PMID of the esearch fixture (its one record, re-numbered)."""
    doc = json.loads(fixture("news/pubmed_esummary.json"))
    template = doc["result"]["41000003"]
    doc["result"] = {"uids": pmids, **{pmid: {**template, "uid": pmid} for pmid in pmids}}
    return dict(doc)


def mock_web(router: respx.MockRouter, web: Web) -> None:
    study = fixture("ctgov/ctgov_study.json")
    search = fixture("ctgov/ctgov_search_ulefnersen_page1.json")
    version = json.dumps({"apiVersion": "2.0.5", "dataTimestamp": "2026-10-14T09:00:21"})
    esearch = fixture("news/pubmed_esearch.json")
    esummary = json.dumps(summaries(json.loads(esearch)["esearchresult"]["idlist"])).encode()
    routes = {
        f"{CTGOV}/version": ("ClinicalTrials.gov", version.encode()),
        f"{CTGOV}/studies/NCT04768972": ("ClinicalTrials.gov", study),
        f"{CTGOV}/studies": ("ClinicalTrials.gov", search),
        FDA: ("FDA press releases", fixture("feeds/fda_press_releases_ulefnersen_derived.xml")),
        EMA: ("EMA news", fixture("feeds/ema_news_rss_ulefnersen_derived.xml")),
        GOOGLE: ("Google News", fixture("news/google_news_rss.xml")),
        f"{EUTILS}/esearch.fcgi": ("PubMed", esearch),
        f"{EUTILS}/esummary.fcgi": ("PubMed", esummary),
    }
    for url, (label, body) in routes.items():
        # JSON APIs never answer 304 here: they do not take validators.
        web_for = (
            web
            if label in ("FDA press releases", "EMA news", "Google News")
            else Web(False, web.requests, web.received)
        )
        router.get(url).mock(side_effect=web_for.route(label, body))


def watchers(http: Http, setup: str) -> list[Watcher]:
    """One cycle's watchers (`trialwatch check` builds them afresh in every process)."""
    cache = 0.0 if setup == "plain" else 300.0
    return [
        ClinicalTrialsWatcher(http, CTGOV, version_probe=setup == "all"),
        FeedWatcher(http, "FDA press releases", FDA, "FDA", cache_seconds=cache),
        FeedWatcher(http, "EMA news", EMA, "EMA", cache_seconds=cache),
        GoogleNewsWatcher(http, GOOGLE),
        PubMedWatcher(http, EUTILS),
    ]


def measure(setup: str, topics: tuple[Topic, ...]) -> tuple[Counter[str], Counter[str]]:
    """Requests and body bytes per source in the unchanged cycle after a baseline cycle."""
    web = Web(conditional=setup == "all", requests=Counter(), received=Counter())
    meta: dict[tuple[str, str], dict[str, str]] = {}
    with respx.mock(assert_all_called=False) as router, httpx.Client() as client:
        mock_web(router, web)
        http = Http(client, min_interval=0.0, sleep=lambda _s: None)
        for cycle in (1, 2):
            if cycle == 2:
                web.requests.clear()
                web.received.clear()
            for watcher in watchers(http, setup):
                for topic in topics:
                    key = (watcher.source, topic.name)
                    result = watcher.poll(topic, meta.get(key, {}))
                    if result.meta:  # the store's rule: a non-empty meta replaces the old
                        meta[key] = dict(result.meta)
    return web.requests, web.received


def main() -> None:
    """Print requests (and KB received) per unchanged cycle for 1 and 2 topics."""
    figures = {(n, setup): measure(setup, TOPICS[:n]) for n in (1, 2) for setup in SETUPS}
    columns = [(n, setup) for n in (1, 2) for setup in SETUPS]
    print("Requests per unchanged cycle (after a baseline cycle); fixtures served by respx\n")
    print(f"{'':<20}{'1 topic':^21}{'2 topics':^21}")
    print(f"{'source':<20}" + "".join(f"{setup:>7}" for _, setup in columns))
    for source in (*SOURCES, "total"):
        counts = [
            sum(figures[c][0].values()) if source == "total" else figures[c][0][source]
            for c in columns
        ]
        print(f"{source:<20}" + "".join(f"{count:>7}" for count in counts))
    kilobytes = [sum(figures[c][1].values()) / 1024 for c in columns]
    print(f"{'KB of bodies':<20}" + "".join(f"{kb:>7.1f}" for kb in kilobytes))


if __name__ == "__main__":
    main()
