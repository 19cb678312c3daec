"""The topic page's alert filters: a GET form whose query parameters narrow the list (links
can be shared, no JavaScript), with an honest "N more" and bad values explained, not fatal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.dashboard.serve import Dashboard
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
    assert len(shown) == 100 and all("<td data-label='Severity'>high</td>" in r for r in shown)
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
