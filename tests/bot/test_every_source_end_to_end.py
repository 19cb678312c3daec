"""Every source at once through the real CLI, respx-mocked, posting to a fake Slack.

baseline (silent) -> a trial completes, two outlets report an FDA approval, a paper appears
(exactly three posts: one per story, the claim unconfirmed) -> unchanged rerun (none) ->
Drugs@FDA shows the approval (its alert, plus ONE follow-up in the news alert's thread) ->
rerun (none).

Payloads are the fixtures under tests/fixtures (see their READMEs); the Google News items and
the Drugs@FDA record for ulefnersen are *derived*: real shapes, values made for this story.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.slack_api import FakeSlack, fake_slack

FIX = Path(__file__).resolve().parents[1] / "fixtures"
CTGOV = "https://clinicaltrials.gov/api/v2"
OPENFDA = "https://api.fda.gov/drug/drugsfda.json"
EMA_REPORT = (
    "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines_json-report_en.json"
)
GOOGLE = "https://news.google.com/rss/search"
EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
FDA_FEED = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/drugs/rss.xml"
EMA_FEED = "https://www.ema.europa.eu/en/news.xml"
TOKEN = "xoxb-every-source-test"

NEWS_ITEM = """<item><title>{title} - {outlet}</title>
<link>https://news.google.com/rss/articles/{guid}?oc=5</link>
<guid isPermaLink="false">{guid}</guid><pubDate>Mon, 01 Mar 2027 14:00:00 GMT</pubDate>
<description>&lt;a href="https://news.google.com/rss/articles/{guid}?oc=5"&gt;{title}&lt;/a&gt;</description>
<source url="https://www.{host}">{outlet}</source></item>"""
NEWS_FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<generator>NFE/5.0</generator><title>"ulefnersen" - Google News</title>
<link>https://news.google.com/search?q=ulefnersen</link><description>Google News</description>
{items}</channel></rss>"""


def load(*parts: str) -> Any:
    return json.loads(FIX.joinpath(*parts).read_text())


def ulefnersen_submission() -> dict[str, Any]:
    """*derived*: the Qalsody Drugs@FDA record re-labelled as an ulefnersen approval."""
    doc = load("openfda", "openfda_drugsfda_qalsody.json")
    record = doc["results"][0]
    record["application_number"] = "NDA299999"
    record["sponsor_name"] = "IONIS PHARMACEUTICALS INC"
    record["openfda"].update(
        application_number=["NDA299999"],
        brand_name=["ULEFNERSEN"],
        generic_name=["ULEFNERSEN"],
        substance_name=["ULEFNERSEN"],
    )
    record["products"][0]["brand_name"] = "ULEFNERSEN"
    record["products"][0]["active_ingredients"][0]["name"] = "ULEFNERSEN"
    submission = record["submissions"][0]
    submission.update(submission_status="AP", submission_status_date="20270301")
    submission["application_docs"] = []
    return doc


class World:
    """What every mocked source serves right now."""

    def __init__(self) -> None:
        self.study = load("ctgov", "ctgov_study.json")
        self.data_timestamp = "2027-02-28T09:00:00"
        self.news: list[tuple[str, str, str, str]] = []  # title, outlet, guid, host
        self.pmids: list[str] = []
        self.drugsfda: dict[str, Any] | None = None

    def routes(self, router: respx.MockRouter) -> None:
        router.get(f"{CTGOV}/version").mock(
            side_effect=lambda _r: httpx.Response(
                200, json={"apiVersion": "2.0.5", "dataTimestamp": self.data_timestamp}
            )
        )
        router.get(f"{CTGOV}/studies/NCT04768972").mock(
            side_effect=lambda _r: httpx.Response(200, json=self.study)
        )
        router.get(f"{CTGOV}/studies").mock(side_effect=self._search)
        router.get(url__startswith=OPENFDA).mock(side_effect=self._drugsfda)
        router.get(EMA_REPORT).respond(json=load("ema", "ema_medicines_json_report.json"))
        router.get(url__startswith=GOOGLE).mock(side_effect=self._google)
        router.get(f"{EUTILS}/esearch.fcgi").mock(side_effect=self._esearch)
        router.get(f"{EUTILS}/esummary.fcgi").respond(json=load("news", "pubmed_esummary.json"))
        router.get(FDA_FEED).respond(
            content=FIX.joinpath("feeds", "fda_drug_recalls_rss_2019_prof18.xml").read_bytes()
        )
        router.get(EMA_FEED).respond(content=FIX.joinpath("feeds", "ema_news_rss.xml").read_bytes())

    def change_trial(self, **status: Any) -> None:
        self.study["protocolSection"]["statusModule"].update(status)
        self.data_timestamp = "2027-03-01T09:00:00"  # the registry refreshed

    def _search(self, request: httpx.Request) -> httpx.Response:
        if "query.cond" in request.url.params:
            return httpx.Response(200, json={"studies": [], "totalCount": 0})
        return httpx.Response(200, json={"studies": [copy.deepcopy(self.study)], "totalCount": 1})

    def _drugsfda(self, _request: httpx.Request) -> httpx.Response:
        if self.drugsfda is None:  # what openFDA answers for a drug it has no record of
            return httpx.Response(404, json=load("openfda", "openfda_error_not_found.json"))
        return httpx.Response(200, json=self.drugsfda)

    def _google(self, _request: httpx.Request) -> httpx.Response:
        items = "".join(
            NEWS_ITEM.format(title=t, outlet=o, guid=g, host=h) for t, o, g, h in self.news
        )
        return httpx.Response(200, content=NEWS_FEED.format(items=items).encode())

    def _esearch(self, _request: httpx.Request) -> httpx.Response:
        result = load("news", "pubmed_esearch.json")
        result["esearchresult"].update(
            idlist=self.pmids, count=str(len(self.pmids)), retmax=str(len(self.pmids))
        )
        return httpx.Response(200, json=result)


@pytest.fixture
def world() -> Iterator[World]:
    served = World()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        served.routes(router)
        yield served


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def write_config(tmp_path: Path, db_url: str, slack_url: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363"]
trials = ["NCT04768972"]
conditions = ["FUS-ALS"]
slack_channel = "#fus-als-watch"

[sources.clinicaltrials]
[sources.openfda]
[sources.ema_medicines]
url = "{EMA_REPORT}"
[sources.google_news]
[sources.pubmed]

[[sources.feeds]]
name = "FDA what's new in drugs"
url = "{FDA_FEED}"
authority = "FDA"

[[sources.feeds]]
name = "EMA news"
url = "{EMA_FEED}"
authority = "EMA"

[slack]
api_url = "{slack_url}"
channel = "#trial-alerts"

[http]
min_interval = 0.001
max_retries = 0
"""
    )
    return str(path)


def check(config: str) -> str:
    result = CliRunner().invoke(app, ["check", "--config", config], env={"SLACK_BOT_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output, result.output  # every source answered
    return result.output


def headline(post: dict[str, Any]) -> str:
    return str(post["blocks"][0]["text"]["text"])


def text_of(post: dict[str, Any]) -> str:
    return json.dumps(post["blocks"], ensure_ascii=False)


def test_every_source_end_to_end(
    tmp_path: Path, db_url: str, world: World, slack: FakeSlack
) -> None:
    config = write_config(tmp_path, db_url, slack.base_url)

    # 1. Baseline: seven sources answer, nothing is posted.
    out = check(config)
    assert "sources: 7 ok" in out
    assert slack.posts == []

    # 2. The trial completes; two outlets report an FDA approval; a paper appears.
    world.change_trial(overallStatus="COMPLETED")
    world.news = [
        ("FDA approves ulefnersen for FUS-ALS", "Reuters", "CBMiReutersUlef", "reuters.com"),
        (
            "FDA approves Ionis's ulefnersen, first drug for FUS-ALS",
            "STAT",
            "CBMiStatUlef",
            "statnews.com",
        ),
    ]
    world.pmids = ["41000003"]
    check(config)
    assert sorted(headline(p) for p in slack.posts) == sorted(
        [
            "🔴 ulefnersen · ClinicalTrials.gov · changed",
            "⚪ ulefnersen · Google News · new",
            "⚪ ulefnersen · PubMed · new",
        ]
    )
    [news] = [p for p in slack.posts if "Google News" in headline(p)]
    assert "FDA approves ulefnersen for FUS-ALS" in text_of(news)
    assert "Claim check: unconfirmed: no FDA/EMA record yet" in text_of(news)
    assert "Also reported by STAT" in text_of(news)
    [trial] = [p for p in slack.posts if "ClinicalTrials.gov" in headline(p)]
    assert "Status: Active, not recruiting → Completed" in text_of(trial)
    assert all(p["channel"] == "#fus-als-watch" for p in slack.posts)

    # 3. Unchanged rerun: nothing.
    check(config)
    assert len(slack.posts) == 3

    # 4. Drugs@FDA shows the approval: its own alert, and one follow-up in the news thread.
    world.drugsfda = ulefnersen_submission()
    check(config)
    assert len(slack.posts) == 5
    record, follow_up = slack.posts[3], slack.posts[4]
    assert headline(record) == "🔴 ulefnersen · openFDA Drugs@FDA · new"
    assert "NDA299999" in text_of(record)
    assert headline(follow_up).endswith("claim confirmed")
    assert follow_up.get("thread_ts") == news_ts(slack, news)
    assert "Drugs@FDA NDA299999:ORIG-1 (AP 2027-03-01)" in text_of(follow_up)

    # 5. Rerun: said once.
    check(config)
    assert len(slack.posts) == 5


def news_ts(slack: FakeSlack, news: dict[str, Any]) -> str:
    """The ts Slack gave the news alert: its message, as channel history holds it."""
    [message] = [m for m in slack.messages if m.get("text") == news["text"]]
    return str(message["ts"])
