"""EU CTIS, the Federal Register, SEC EDGAR and medRxiv through the real CLI, served from
127.0.0.1 by a real HTTP server (tests/fakes/official_sources.py), posting to a fake Slack.

baseline (silent) -> one new item each (exactly one alert each, with its severity and claim
note) -> unchanged rerun (nothing; requests counted) -> each source answers with HTML or a
block page (health recorded, no items) -> recovered (nothing new).

Bodies are built from the fixtures (see their READMEs): the CTIS record is the REAL reduced
retrieve re-numbered; the SEC hits derive from the REAL bellingcat hit; the Federal Register
documents from the SHAPE example; medRxiv from its SHAPE example. Values are illustrative.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from state.store import Store
from state.types import Alert, ChangeKind, Severity
from tests.fakes.official_sources import OfficialSources, official_sources
from tests.fakes.slack_api import FakeSlack, fake_slack

FIX = Path(__file__).resolve().parents[1] / "fixtures"
TOKEN = "xoxb-official-sources-test"
SOURCES = ("ctis", "federal_register", "sec_edgar", "medrxiv")


def load(*parts: str) -> Any:
    return json.loads(FIX.joinpath(*parts).read_text())


def ctis_trial(number: str, status: int, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """*derived*: a search row (SHAPE) and its record (the REAL retrieve, re-numbered)."""
    row = load("ctis", "ctis_search_response_SHAPE.json")["data"][0]
    row.update(ctNumber=number, ctStatus=status, ctTitle=title)
    record = load("ctis", "ctis_retrieve_trajnovd_2025-523333-26-00_reduced.json")
    record.update(ctNumber=number, ctPublicStatusCode=status)
    identifiers = {
        "publicTitle": title,
        "secondaryIdentifyingNumbers": {"nctNumber": {"number": "NCT04768972"}},
    }
    record["authorizedApplication"]["authorizedPartI"]["trialDetails"][
        "clinicalTrialIdentifiers"
    ] = identifiers
    return row, record


def fr_document(number: str, **values: Any) -> dict[str, Any]:
    """*derived*: the SHAPE Federal Register document with values replaced."""
    doc: dict[str, Any] = load("federal_register", "federal_register_documents_SHAPE.json")[
        "results"
    ][0]
    doc.update(document_number=number, **values)
    return doc


def sec_hit(adsh: str, form: str, items: list[str]) -> dict[str, Any]:
    """*derived*: the REAL bellingcat hit as another filing."""
    hit: dict[str, Any] = copy.deepcopy(
        load("sec_edgar", "sec_efts_search_1_hit_bellingcat.json")["hits"]["hits"][0]
    )
    hit["_source"].update(adsh=adsh, form=form, root_forms=[form], items=items)
    hit["_id"] = f"{adsh}:doc1.htm"
    return hit


def preprint(doi: str, title: str) -> dict[str, Any]:
    """*derived*: the SHAPE medRxiv record with another DOI and title."""
    record: dict[str, Any] = load("medrxiv", "medrxiv_details_interval_SHAPE.json")["collection"][0]
    record.update(doi=doi, title=title)
    return record


@pytest.fixture
def served() -> Iterator[OfficialSources]:
    with official_sources() as sources:
        yield sources


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def write_config(tmp_path: Path, db_url: str, served: OfficialSources, slack_url: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363"]
conditions = ["FUS-ALS"]
slack_channel = "#fus-als-watch"

[sources.ctis]
base_url = "{served.base}/ctis-public-api"
[sources.federal_register]
base_url = "{served.base}/api/v1"
[sources.sec_edgar]
base_url = "{served.sec_base}/LATEST"
contact = "Trialwatch Tests ops@pharma.test"
[sources.medrxiv]
base_url = "{served.base}"

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
    return result.output


def item_alerts(db_url: str) -> list[Alert]:
    store = Store.open(db_url)
    try:
        alerts = store.status("ulefnersen", alerts=100).recent_alerts
    finally:
        store.close()
    health = (ChangeKind.SOURCE_DOWN, ChangeKind.SOURCE_RECOVERED)
    return [a for a in alerts if a.change.kind not in health]


def test_four_official_sources_end_to_end(
    tmp_path: Path, db_url: str, served: OfficialSources, slack: FakeSlack
) -> None:
    config = write_config(tmp_path, db_url, served, slack.base_url)
    row, record = ctis_trial("2099-500000-00-00", 4, "FUSION: ION363 in FUS-ALS")
    served.ctis_rows = [row]
    served.ctis_records = {row["ctNumber"]: record}
    served.fr_documents = [fr_document("2026-12345")]
    served.sec_hits = [sec_hit("0000874015-26-000001", "10-Q", [])]
    served.medrxiv_records = [preprint("10.1101/2026.09.15.26300001", "FUS-ALS cohort")]

    # 1. Baseline: the four answer, nothing is posted.
    out = check(config)
    assert "0 failed" in out, out
    assert slack.posts == []
    assert served.user_agents["sec_edgar"] == "Trialwatch Tests ops@pharma.test (trialwatch)"

    # 2. One new item each: exactly one alert each, with the right severity.
    halted_row, halted = ctis_trial("2099-500001-00-00", 6, "ION363 extension study")
    served.ctis_rows.append(halted_row)
    served.ctis_records[halted_row["ctNumber"]] = halted
    served.fr_notices = [
        fr_document(
            "2027-00001",
            title="Peripheral and Central Nervous System Drugs Advisory Committee; Notice of "
            "Meeting; Establishment of a Public Docket; Request for Comments",
            abstract="The committee will discuss a new drug application for ulefnersen.",
            dates="The meeting will be held on March 4, 2027, from 9 a.m. to 5 p.m.",
            publication_date="2027-01-20",
        )
    ]
    served.sec_hits.append(sec_hit("0000874015-26-000002", "8-K", ["8.01", "9.01"]))
    served.medrxiv_records.append(preprint("10.64898/2026.11.20.100001", "FUS-ALS biomarkers"))
    check(config)
    alerts = item_alerts(db_url)
    assert sorted((a.change.source, a.change.kind, a.change.severity) for a in alerts) == [
        ("ctis", ChangeKind.NEW, Severity.HIGH),
        ("federal_register", ChangeKind.NEW, Severity.HIGH),
        ("medrxiv", ChangeKind.NEW, Severity.LOW),
        ("sec_edgar", ChangeKind.NEW, Severity.HIGH),
    ]
    assert len(slack.posts) == 4
    by_source = {a.change.source: a.change for a in alerts}
    notice = by_source["federal_register"]
    assert notice.detail is not None and "Meeting date: 2027-03-04" in notice.detail
    assert notice.claim_label is not None and "never of an approval" in notice.claim_label
    filing = by_source["sec_edgar"]
    assert filing.detail is not None and "Items: 8.01; 9.01" in filing.detail
    assert filing.claim_label is not None and "own statement" in filing.claim_label
    assert filing.url.endswith("/000087401526000002/0000874015-26-000002-index.htm")
    assert by_source["ctis"].detail is not None
    assert "Status: Temporarily halted" in by_source["ctis"].detail

    # 3. Unchanged rerun: nothing; count what one cycle costs each source.
    before = dict(served.requests)
    check(config)
    assert len(item_alerts(db_url)) == 4
    assert len(slack.posts) == 4
    per_cycle = {s: served.requests[s] - before.get(s, 0) for s in SOURCES}
    # CTIS: three names + one condition, no retrieve; FR: three names + the notices query;
    # SEC: three names; medRxiv: one page.
    assert per_cycle == {"ctis": 4, "federal_register": 4, "sec_edgar": 3, "medrxiv": 1}

    # 4. HTML answers (the web app with 200) and SEC's block page: health, no items.
    served.misbehave = dict.fromkeys(SOURCES, "html") | {"sec_edgar": "block"}
    out = check(config)
    assert "4 failed" in out, out
    store = Store.open(db_url)
    try:
        health = {h.source: h for h in store.health("ulefnersen")}
    finally:
        store.close()
    for source in SOURCES:
        assert health[source].consecutive_failures == 1, source
    assert "User-Agent naming your organisation" in (health["sec_edgar"].last_error or "")
    assert "ctis-public-api" in (health["ctis"].last_error or "")
    assert len(item_alerts(db_url)) == 4
    assert len(slack.posts) == 4

    # 5. Back to normal: nothing new, nothing removed.
    served.misbehave = {}
    check(config)
    assert len(item_alerts(db_url)) == 4
    assert len(slack.posts) == 4
