"""Feeds, Google News and PubMed: built from config, and the user's story through `check`.

baseline (silent) -> a new FDA item naming the drug (one high alert) -> unchanged rerun
(nothing; the feed answers 304) -> a paper and news stories (low alerts) -> a re-dated
story (nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Secrets, Settings
from bot.polling.sources import build_watchers, source_intervals
from watchers.model import Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parent.parent / "fixtures"
FDA = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
GOOGLE = "https://news.google.com/rss/search"
EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"


def settings(**sources: Any) -> Settings:
    return Settings.model_validate({"topics": [{"name": "ulefnersen"}], "sources": sources})


@pytest.fixture
def http() -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, max_retries=0, sleep=lambda _s: None)


FEEDS = [
    {"name": "FDA press releases", "url": FDA, "authority": "FDA"},
    {"name": "EMA news", "url": "https://www.ema.europa.eu/en/news.xml", "authority": "EMA"},
    {"name": "Old feed", "url": "https://example.org/rss", "enabled": False},
]
SECTIONS = {
    "every news source": (
        {"feeds": FEEDS, "google_news": {}, "pubmed": {}},
        ["feed:FDA press releases", "feed:EMA news", "google_news", "pubmed"],
    ),
    "absent means off": ({}, []),
    "disabled": ({"google_news": {"enabled": False}, "pubmed": {"enabled": False}}, []),
}


@pytest.mark.parametrize(("sources", "expected"), SECTIONS.values(), ids=SECTIONS.keys())
def test_sections_decide_which_news_watchers_run(
    http: Http, sources: dict[str, Any], expected: list[str]
) -> None:
    assert [w.source for w in build_watchers(settings(**sources), Secrets(), http)] == expected


def test_intervals_default_and_follow_config() -> None:
    feeds = [FEEDS[0], {**FEEDS[1], "interval": "15m"}]
    defaults = source_intervals(settings(feeds=feeds, google_news={}, pubmed={}))
    assert defaults["feed:FDA press releases"] == 1800.0
    assert defaults["feed:EMA news"] == 900.0
    assert (defaults["google_news"], defaults["pubmed"]) == (1800.0, 3600.0)
    custom = source_intervals(settings(google_news={"interval": "1h"}, pubmed={"interval": "2h"}))
    assert (custom["google_news"], custom["pubmed"]) == (3600.0, 7200.0)


def test_pubmed_sends_the_ncbi_key_from_the_environment(http: Http) -> None:
    config = settings(pubmed={"base_url": "https://ncbi.example.org/eutils/"})
    [watcher] = build_watchers(config, Secrets.from_env({"NCBI_API_KEY": "ncbi-k-1"}), http)
    empty = json.loads((FIXTURES / "news" / "pubmed_esearch_empty.json").read_text("utf-8"))
    with respx.mock() as router:
        route = router.get("https://ncbi.example.org/eutils/esearch.fcgi").respond(200, json=empty)
        watcher.poll(Topic("ulefnersen"), {})
    assert route.calls.last.request.url.params["api_key"] == "ncbi-k-1"


# --- through `trialwatch check` -------------------------------------------------------------


class Web:
    """What the mocked FDA feed, Google News and PubMed serve now; counts every request."""

    def __init__(self) -> None:
        self.feed = "fda_press_releases_rss.xml"  # nothing names ulefnersen yet
        self.news: bytes = _empty_news()
        self.pmids: list[str] = []
        self.requests = 0

    def fda(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        etag = f'"{self.feed}"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304)
        body = (FIXTURES / "feeds" / self.feed).read_bytes()
        return httpx.Response(200, content=body, headers={"ETag": etag})

    def google(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, content=self.news)  # Google sends no validators

    def esearch(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, json={"esearchresult": {"count": "0", "idlist": self.pmids}})

    def esummary(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        record = json.loads((FIXTURES / "news" / "pubmed_esummary.json").read_text("utf-8"))
        return httpx.Response(200, json=record)


def _empty_news() -> bytes:
    return b'<?xml version="1.0"?><rss version="2.0"><channel><title>q</title></channel></rss>'


@pytest.fixture
def web() -> Iterator[Web]:
    served = Web()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(FDA).mock(side_effect=served.fda)
        router.get(GOOGLE).mock(side_effect=served.google)
        router.get(f"{EUTILS}/esearch.fcgi").mock(side_effect=served.esearch)
        router.get(f"{EUTILS}/esummary.fcgi").mock(side_effect=served.esummary)
        yield served


def write_config(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363"]

[sources.google_news]
base_url = "{GOOGLE}"

[sources.pubmed]
base_url = "{EUTILS}"

[[sources.feeds]]
name = "FDA press releases"
url = "{FDA}"
authority = "FDA"

[http]
min_interval = 0.001
max_retries = 0
"""
    )
    return str(path)


def check(config: str) -> str:
    result = CliRunner().invoke(app, ["check", "--config", config], env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    return result.output


def test_news_sources_end_to_end(tmp_path: Path, db_url: str, web: Web) -> None:
    config = write_config(tmp_path, db_url)

    # 1. Baseline: silent, whatever the sources hold.
    assert "new alerts: 0" in check(config)

    # 2. The FDA posts an approval naming the drug (high) and a designation for ION-363.
    web.feed = "fda_press_releases_ulefnersen_derived.xml"
    out = check(config)
    assert "new alerts: 2" in out
    assert "🔴 ulefnersen · FDA press releases · new  [HIGH]" in out
    assert "FDA Approves First Treatment for Adults and Children with ALS" in out
    assert "🟡 ulefnersen · FDA press releases · new  [NORMAL]" in out
    assert "matched “ION363”" in out

    # 3. Nothing new: the feed answers 304, PubMed's search is unchanged: no alert, and
    # one request per source (Google News sends no validators, so it is read in full).
    before = web.requests
    assert "new alerts: 0" in check(config)
    assert web.requests - before == 3

    # 4. A paper and two news stories appear: one low alert each.
    web.pmids = ["41000003"]
    web.news = (FIXTURES / "news" / "google_news_rss.xml").read_bytes()
    out = check(config)
    assert "new alerts: 3" in out
    assert "⚪ ulefnersen · PubMed · new  [LOW]" in out
    assert "Antisense Oligonucleotide Therapy for FUS-ALS." in out
    assert "⚪ ulefnersen · Google News · new  [LOW]" in out
    assert "Ionis announces positive topline results" in out

    # 5. Google News re-dates a story it already listed: no second alert.
    web.news = web.news.replace(b"Tue, 22 Sep 2026 11:00:00 GMT", b"Wed, 23 Sep 2026 08:00:00 GMT")
    assert "new alerts: 0" in check(config)
