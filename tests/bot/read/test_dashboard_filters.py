"""The topic page's alert filters: a GET form whose query parameters narrow the list (links
can be shared, no JavaScript), with an honest "N more" and bad values explained, not fatal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.dashboard.serve import Dashboard
from state.schema import AlertRow
from state.store import Store
from tests.bot.read.world import TOPIC, seed_world
from tests.factories import T0, Clock


@pytest.fixture
def http(db_url: str) -> Iterator[TestClient]:
    store = Store.open(db_url)
    seed_world(store, extra=500)  # 125 high from PubMed, 375 low from medRxiv
    dashboard = Dashboard(store, [TOPIC], Clock(T0 + timedelta(days=4)), host="::1", token=None)
    yield TestClient(Starlette(routes=dashboard.routes()))
    store.close()


def rows(page: str) -> list[str]:
    return re.findall(r"<tr class='alert'>.*?</tr>", page)


def test_filters_narrow_the_alert_list_and_count_the_rest(http: TestClient) -> None:
    page = http.get("/topics/ulefnersen", params={"severity": "high", "source": "pubmed"}).text
    shown = rows(page)
    assert len(shown) == 100 and all(
        "<td data-label='Severity' class='high'>high</td>" in r for r in shown
    )
    assert "25 more alerts" in page  # 125 match, 100 shown
    assert "<form class='filters' method='get'>" in page and "<script" not in page
    assert "<option value='high' selected>" in page and "<option value='pubmed' selected>" in page
    one = rows(http.get("/topics/ulefnersen?trial=PMID8&since=2026-11-04").text)
    assert len(one) == 1 and "pubmed.example/8'" in one[0]


def test_a_bad_filter_value_is_explained_and_the_list_stays(http: TestClient) -> None:
    answer = http.get("/topics/ulefnersen", params={"since": "<b>soon</b>"})
    assert answer.status_code == 200
    assert "since: &#39;&lt;b&gt;soon&lt;/b&gt;&#39; is not a period" in answer.text
    assert "<b>soon</b>" not in answer.text and len(rows(answer.text)) == 100


def test_high_rows_are_styled_and_the_more_line_suggests_the_same_filters(
    http: TestClient,
) -> None:
    page = http.get("/topics/ulefnersen", params={"severity": "high", "since": "30d"}).text
    assert all("<td data-label='Severity' class='high'>high</td>" in r for r in rows(page))
    assert "&#39;high&#39;" not in page  # the class's quotes are markup, not text
    assert (
        "25 more alerts match: <code>trialwatch status ulefnersen --since 30d --severity high "
        "--all</code>"
    ) in page
    both = http.get("/topics/ulefnersen", params={"severity": "high", "source": "pubmed"}).text
    assert "<code>trialwatch status ulefnersen --severity high --all</code>" in both
    assert (  # `status` has no --source: the API link carries every filter
        "<a href='../api/v1/topics/ulefnersen/alerts?severity=high&amp;source=pubmed'>"
    ) in both
    plain = http.get("/topics/ulefnersen").text  # no filter: the plain command
    assert "more alerts: <code>trialwatch status ulefnersen --all</code>" in plain


def test_alerts_of_one_record_read_together_under_its_heading(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        seed_world(store, extra=6)  # one alert per PubMed / medRxiv item
        with Session(store.engine) as session:
            for n in range(3):  # three updates of the trial record, among the items
                session.add(
                    AlertRow(created_at=T0 + timedelta(days=3, minutes=n, seconds=30),
                             kind="updated", topic=TOPIC.name, source="clinicaltrials",
                             key="NCT04768972", title=f"FUSION update {n}",
                             url="https://clinicaltrials.gov/study/NCT04768972", severity="low")
                )  # fmt: skip
            session.commit()
        dashboard = Dashboard(store, [TOPIC], Clock(T0 + timedelta(days=4)), host="::1", token=None)
        page = TestClient(Starlette(routes=dashboard.routes())).get("/topics/ulefnersen").text
    finally:
        store.close()
    groups = re.findall(r"<tbody class='record'>(.*?)</tbody>", page)
    trial = [g for g in groups if "FUSION update" in g]
    assert len(trial) == 1 and trial[0].startswith("<tr class='group'>")
    assert "NCT04768972 · FUSION update 2" in trial[0]  # the newest names the group
    assert re.findall(r"FUSION update (\d)</a>", trial[0]) == ["2", "1", "0"]
    assert not any("PMID" in g for g in groups)  # one alert per item: no heading
