"""Fake upstream sources for the reliability tests: each serves recorded fixtures via respx.

Every source lives on its own host so a fault injected into one cannot touch another. A source
answers in one of three variants (the healthy fixture, a changed version of it, or a valid
answer with zero items for the topic), or with an injected fault.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import respx

from tests.fakes.clock import FakeClock
from watchers.base import Watcher
from watchers.ctgov.watcher import ClinicalTrialsWatcher
from watchers.ctis.watcher import CtisWatcher
from watchers.ema.watcher import EmaMedicinesWatcher
from watchers.federal_register.watcher import FederalRegisterWatcher
from watchers.feeds.watcher import FeedWatcher
from watchers.medrxiv.watcher import MedrxivWatcher
from watchers.model import Topic
from watchers.net.http import Http
from watchers.news.watcher import GoogleNewsWatcher
from watchers.openfda.watcher import OpenFdaWatcher
from watchers.pubmed.watcher import PubMedWatcher
from watchers.sec_edgar.watcher import SecEdgarWatcher

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# Names that every fixture below matches: the FUSION trial, the ulefnersen EMA record (fictional
# SHAPE data) and Qalsody/tofersen at openFDA and EMA.
TOPIC = Topic(
    name="ulefnersen",
    aliases=("jacifusen", "ION363", "ION-363", "tofersen"),
    trials=("NCT04768972",),
    conditions=("FUS-ALS",),
)

Fault = Callable[["FakeSource", httpx.Request], httpx.Response]


def load(path: str) -> Any:
    """A JSON fixture under tests/fixtures (a new object each time: callers change it)."""
    return json.loads(text(path))


@functools.cache
def text(path: str) -> str:
    """A text fixture under tests/fixtures (read once per test process: the matrix asks ~4,000
    times)."""
    return (FIXTURES / path).read_text("utf-8")


def rss(body: str) -> httpx.Response:
    return httpx.Response(200, text=body, headers={"content-type": "application/rss+xml"})


# SYNTH (derived): one more item naming the topic, added to a feed for the "changed" variant.
NEW_ITEM = """<item><title>Ionis opens an expanded access programme for ulefnersen</title>
<link>https://example.test/news/ulefnersen-expanded-access</link>
<guid isPermaLink="false">example-ulefnersen-expanded-access</guid>
<pubDate>Mon, 02 Nov 2026 09:00:00 GMT</pubDate>
<description>Patients with FUS-ALS may get ulefnersen before approval.</description></item>"""


class FakeSource:
    """One upstream source: its host, its watcher, and what it answers right now."""

    source = ""
    host = ""
    requests_per_poll = 1
    # Whether a valid answer with zero items is a failure for this source (EMA: an empty
    # report is a broken export, docs/sources.md#ema-medicines-report), rather than a success with
    # nothing to report.
    zero_items_fails = False

    def __init__(self) -> None:
        self.variant = "healthy"
        self.fault: Fault | None = None
        self.fault_from = 0  # inject from this request of a poll on (0: every request)
        self.requests = 0  # requests seen in the current poll
        self.urls: list[str] = []

    def watcher(self, http: Http) -> Watcher:
        """The real watcher for this source, pointed at the fake host."""
        raise NotImplementedError

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        """The answer in one of the variants: healthy, changed, zero_items."""
        raise NotImplementedError

    def handle(self, request: httpx.Request) -> httpx.Response:
        index, self.requests = self.requests, self.requests + 1
        self.urls.append(str(request.url))
        if self.fault is not None and index >= self.fault_from:
            return self.fault(self, request)
        return self.respond(request, self.variant)

    def new_poll(self) -> None:
        self.requests = 0


class CtGovSource(FakeSource):
    """ClinicalTrials.gov API v2: the study by id, an intervention and a condition search."""

    source = "clinicaltrials"
    host = "ctgov.test"
    base_url = "https://ctgov.test/api/v2"
    requests_per_poll = 3

    def __init__(self, data_timestamp: Callable[[], str] = lambda: "2026-11-01T06:00:00") -> None:
        super().__init__()
        self.data_timestamp = data_timestamp

    def watcher(self, http: Http) -> Watcher:
        return ClinicalTrialsWatcher(http, base_url=self.base_url, page_size=100)

    def _study(self, variant: str) -> dict[str, Any]:
        study: dict[str, Any] = load("ctgov/ctgov_study.json")
        if variant == "changed":
            study["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
        return study

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        path = request.url.path
        if path.endswith("/version"):  # the freshness probe, whenever the watcher uses it
            return httpx.Response(
                200, json={"apiVersion": "2.0.5", "dataTimestamp": self.data_timestamp()}
            )
        if path.endswith("/studies/NCT04768972"):
            return httpx.Response(200, json=self._study(variant))
        if path.endswith("/studies"):
            if variant == "zero_items":
                return httpx.Response(200, json={"studies": [], "totalCount": 0})
            if "query.cond" in request.url.params:
                other = load("ctgov/ctgov_full_study_aact_NCT06171568.json")
                return httpx.Response(200, json={"studies": [other], "totalCount": 1})
            return httpx.Response(200, json={"studies": [self._study(variant)], "totalCount": 1})
        return httpx.Response(404, text=f"no such path {path}")


class OpenFdaSource(FakeSource):
    """openFDA Drugs@FDA: QALSODY (tofersen); zero matches is openFDA's 404 NOT_FOUND."""

    source = "openfda"
    host = "openfda.test"

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key

    def watcher(self, http: Http) -> Watcher:
        return OpenFdaWatcher(http, f"https://{self.host}", api_key=self.api_key)

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        if variant == "zero_items":
            return httpx.Response(404, json=load("openfda/openfda_error_not_found.json"))
        doc = load("openfda/openfda_drugsfda_qalsody.json")
        if variant == "changed":  # derived: a supplement approved later
            submissions = doc["results"][0]["submissions"]
            submissions.append(
                {
                    **copy.deepcopy(submissions[0]),
                    "submission_type": "SUPPL",
                    "submission_number": "5",
                    "submission_status_date": "20261015",
                }
            )
        return httpx.Response(200, json=doc)


class EmaSource(FakeSource):
    """EMA's medicines JSON report (one bulk file for every topic)."""

    source = "ema_medicines"
    host = "ema.test"
    url = "https://ema.test/en/documents/report/medicines-output-medicines_json-report_en.json"

    def watcher(self, http: Http) -> Watcher:
        # No cache between polls: every poll of the test must reach the (faulted) host.
        return EmaMedicinesWatcher(http, self.url, cache_seconds=0)

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        doc = load("ema/ema_medicines_json_report.json")
        records = doc["data"]
        if variant == "changed":  # derived: the fictional ulefnersen record gets authorised
            for record in records:
                if record["international_non_proprietary_name_common_name"] == "ulefnersen":
                    record["medicine_status"] = "Authorised"
        if variant == "zero_items":  # derived: the report lists only other medicines
            for index, record in enumerate(records):
                for name in (
                    "name_of_medicine",
                    "international_non_proprietary_name_common_name",
                    "active_substance",
                ):
                    record[name] = f"othermedicine{index}"
                record["ema_product_number"] = f"EMEA/H/C/00000{index}"
        return httpx.Response(200, json=doc)


class FeedSource(FakeSource):
    """An RSS feed (FDA press releases, derived to name the topic)."""

    source = "feed:FDA press releases"
    host = "fda.test"
    url = "https://fda.test/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"

    def watcher(self, http: Http) -> Watcher:
        return FeedWatcher(http, "FDA press releases", self.url, "FDA", cache_seconds=0)

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        if variant == "zero_items":
            return rss(text("feeds/fda_medwatch_zero_items_derived.xml"))
        body = text("feeds/fda_press_releases_ulefnersen_derived.xml")
        if variant == "changed":
            body = body.replace("</channel>", NEW_ITEM + "</channel>")
        return rss(body)


class GoogleNewsSource(FakeSource):
    """Google News RSS search."""

    source = "google_news"
    host = "news.test"

    def watcher(self, http: Http) -> Watcher:
        return GoogleNewsWatcher(http, f"https://{self.host}/rss/search")

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        body = text("news/google_news_rss.xml")
        if variant == "zero_items":  # derived: the same channel without its items
            head, _, rest = body.partition("<item>")
            body = head + rest[rest.rindex("</item>") + len("</item>") :]
        if variant == "changed":
            body = body.replace("</channel>", NEW_ITEM + "</channel>")
        return rss(body)


class PubMedSource(FakeSource):
    """PubMed E-utilities: esearch, then esummary for PMIDs not seen before."""

    source = "pubmed"
    host = "eutils.test"
    requests_per_poll = 2

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key

    def watcher(self, http: Http) -> Watcher:
        return PubMedWatcher(http, f"https://{self.host}/entrez/eutils", api_key=self.api_key)

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        if request.url.path.endswith("esearch.fcgi"):
            if variant == "zero_items":
                return httpx.Response(200, json=load("news/pubmed_esearch_empty.json"))
            doc = load("news/pubmed_esearch.json")
            if variant == "changed":  # derived: a new paper
                doc["esearchresult"]["idlist"].insert(0, "41000004")
            return httpx.Response(200, json=doc)
        summary = load("news/pubmed_esummary.json")
        template = summary["result"]["41000003"]
        ids = request.url.params["id"].split(",")
        result: dict[str, Any] = {"uids": ids}
        for pmid in ids:  # derived: one summary per PMID asked for
            result[pmid] = {**copy.deepcopy(template), "uid": pmid, "title": f"Paper {pmid}."}
        return httpx.Response(200, json={"header": summary["header"], "result": result})


TODAY = date(2026, 11, 2)  # what the date-windowed sources are told today is


def ctis_record(status_code: int) -> dict[str, Any]:
    """*derived*: the REAL CTIS retrieve as the SHAPE row's trial, naming ION363."""
    record: dict[str, Any] = load("ctis/ctis_retrieve_trajnovd_2025-523333-26-00_reduced.json")
    record.update(ctNumber="2099-500000-00-00", ctPublicStatusCode=status_code)
    part_one = record["authorizedApplication"]["authorizedPartI"]
    part_one["trialDetails"]["clinicalTrialIdentifiers"] = {"publicTitle": "ION363 in FUS-ALS"}
    return record


class CtisSource(FakeSource):
    """EU CTIS: a POST search per name and condition, then the trial's record."""

    source = "ctis"
    host = "ctis.test"
    requests_per_poll = 8  # five names, one condition, one retrieve (when the row moved)

    def watcher(self, http: Http) -> Watcher:
        return CtisWatcher(http, base_url=f"https://{self.host}/ctis-public-api")

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        status = 6 if variant == "changed" else 4  # derived: the trial is halted
        if request.url.path.endswith("/retrieve/2099-500000-00-00"):
            return httpx.Response(200, json=ctis_record(status))
        doc = load("ctis/ctis_search_response_SHAPE.json")
        criteria = json.loads(request.content)["searchCriteria"]
        if variant == "zero_items" or criteria != {"containAll": "ION363"}:
            doc["data"] = []
        else:
            doc["data"][0]["ctStatus"] = status
        return httpx.Response(200, json=doc)


class FederalRegisterSource(FakeSource):
    """Federal Register: a search per name and the FDA meeting notices."""

    source = "federal_register"
    host = "fr.test"
    requests_per_poll = 6

    def watcher(self, http: Http) -> Watcher:
        return FederalRegisterWatcher(http, lambda: TODAY, base_url=f"https://{self.host}/api/v1")

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        zero = load("federal_register/federal_register_documents_zero_results_swiftfr.json")
        params = request.url.params
        if variant == "zero_items":
            return httpx.Response(200, json=zero)
        if params.get("conditions[agencies][]") == "food-and-drug-administration":
            if variant != "changed":
                return httpx.Response(200, json=zero)
            doc = load("federal_register/federal_register_documents_SHAPE.json")
            notice = doc["results"][0]  # derived: an advisory committee notice about the drug
            notice.update(
                title="Peripheral and Central Nervous System Drugs Advisory Committee; "
                "Notice of Meeting",
                abstract="The committee will discuss an application for ulefnersen.",
                dates="The meeting will be held on January 28, 2027.",
                document_number="2026-20001",
            )
            return httpx.Response(200, json=doc)
        if params.get("conditions[term]") == '"ulefnersen"':
            return httpx.Response(
                200, json=load("federal_register/federal_register_documents_SHAPE.json")
            )
        return httpx.Response(200, json=zero)


class SecEdgarSource(FakeSource):
    """SEC EDGAR full-text search: one search per name."""

    source = "sec_edgar"
    host = "sec.test"
    requests_per_poll = 5

    def watcher(self, http: Http) -> Watcher:
        return SecEdgarWatcher(
            http,
            lambda: TODAY,
            "Trialwatch Tests ops@pharma.test",
            base_url=f"https://{self.host}/LATEST",
        )

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        zero = load("sec_edgar/sec_efts_search_0_hits_bellingcat.json")
        if variant == "zero_items" or request.url.params.get("q") != '"ulefnersen"':
            return httpx.Response(200, json=zero)
        doc = load("sec_edgar/sec_efts_search_1_hit_bellingcat.json")
        if variant == "changed":  # derived: an 8-K with a press release
            hit = copy.deepcopy(doc["hits"]["hits"][0])
            hit["_source"].update(form="8-K", root_forms=["8-K"], items=["7.01", "9.01"])
            hit["_source"]["adsh"] = "0000874015-26-000001"
            doc["hits"]["hits"].append(hit)
            doc["hits"]["total"]["value"] = 2
        return httpx.Response(200, json=doc)


class MedrxivSource(FakeSource):
    """medRxiv /details: one window of postings, filtered here per topic."""

    source = "medrxiv"
    host = "medrxiv.test"

    def watcher(self, http: Http) -> Watcher:
        # No cache between polls: every poll of the test must reach the (faulted) host.
        return MedrxivWatcher(http, lambda: TODAY, base_url=f"https://{self.host}", cache_seconds=0)

    def respond(self, request: httpx.Request, variant: str) -> httpx.Response:
        if variant == "zero_items":
            return httpx.Response(
                200, json=load("medrxiv/medrxiv_details_no_posts_found_SHAPE.json")
            )
        doc = load("medrxiv/medrxiv_details_interval_SHAPE.json")
        if variant == "changed":  # derived: version 2 of the preprint
            doc["collection"][0]["version"] = "2"
        return httpx.Response(200, json=doc)


def all_sources() -> list[FakeSource]:
    """One fake of every source whose watcher exists."""
    return [
        CtGovSource(),
        OpenFdaSource(),
        EmaSource(),
        FeedSource(),
        GoogleNewsSource(),
        PubMedSource(),
        CtisSource(),
        FederalRegisterSource(),
        SecEdgarSource(),
        MedrxivSource(),
    ]


@contextmanager
def serving(sources: list[FakeSource]) -> Iterator[respx.MockRouter]:
    """Route each source's host to it; any other request fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        for fake in sources:
            router.route(host=fake.host).mock(side_effect=fake.handle)
        yield router


def make_http(client: httpx.Client, time: FakeClock, *, max_body_bytes: int) -> Http:
    """An Http that never really sleeps, retries twice, and caps bodies at `max_body_bytes`."""
    return Http(
        client,
        min_interval=0.0,
        max_retries=2,
        backoff=0.5,
        max_body_bytes=max_body_bytes,
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
