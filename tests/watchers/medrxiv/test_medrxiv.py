"""medRxiv: parse shape payloads (pure) and poll through a mocked API (respx)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.fakes.clock import FakeClock
from watchers.medrxiv.watcher import MedrxivWatcher, parse_details, parse_preprint
from watchers.model import FetchError, ParseError, Topic
from watchers.net.http import Http

FIXTURES = Path(__file__).parents[2] / "fixtures" / "medrxiv"
BASE = "https://api.biorxiv.org/details/medrxiv"
INTERVAL = "medrxiv_details_interval_SHAPE.json"
NO_POSTS = "medrxiv_details_no_posts_found_SHAPE.json"
TOPIC = Topic("ulefnersen", aliases=("ION363",), conditions=("FUS-ALS",))
TODAY = date(2026, 11, 29)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def record(**values: Any) -> dict[str, Any]:
    """*derived*: the SHAPE record with values replaced."""
    item: dict[str, Any] = copy.deepcopy(load(INTERVAL)["collection"][0])
    item.update(values)
    return item


def page(records: list[dict[str, Any]], cursor: int, total: int) -> dict[str, Any]:
    """*derived*: a SHAPE page holding `records`."""
    doc: dict[str, Any] = load(INTERVAL)
    doc["messages"][0].update({"cursor": cursor, "count": len(records), "total": str(total)})
    doc["collection"] = records
    return doc


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def http(clock: FakeClock) -> Iterator[Http]:
    with httpx.Client() as client:
        yield Http(client, min_interval=0.0, sleep=clock.sleep, monotonic=clock.monotonic)


# --- parse: shapes --------------------------------------------------------------------------


def test_shape_page_counts_and_record() -> None:
    records, count, total = parse_details(load(INTERVAL))
    assert (len(records), count, total) == (1, 1, 1)
    obs = parse_preprint(records[0], Topic("x", conditions=("FUS mutations",)))
    assert obs is not None
    assert (obs.source, obs.key) == ("medrxiv", "10.1101/2026.09.15.26300001")
    assert obs.url == "https://www.medrxiv.org/content/10.1101/2026.09.15.26300001v1"
    assert obs.title == "Natural history of FUS-ALS: a multicentre cohort"
    assert obs.fields["version"] == "1"
    assert obs.fields["_summary"] == "Example, A.; Sample, B. Posted 2026-09-18 (version 1)."
    assert obs.fields["_journal_doi"] is None  # "NA"
    assert obs.published == datetime(2026, 9, 18, tzinfo=UTC)
    assert obs.matched_alias == "FUS mutations"  # found in the abstract


def test_shape_no_posts_found_is_empty() -> None:
    assert parse_details(load(NO_POSTS)) == ([], 0, 0)


def test_condition_in_title_matches_and_unrelated_is_dropped() -> None:
    assert parse_preprint(record(), TOPIC) is not None  # "FUS-ALS" in the title
    unrelated = record(title="Influenza vaccination uptake", abstract="Background: vaccines")
    assert parse_preprint(unrelated, TOPIC) is None


def test_name_in_abstract_wins_over_condition() -> None:
    obs = parse_preprint(record(abstract="Patients received ION-363 intrathecally."), TOPIC)
    assert obs is not None and obs.matched_alias == "ION363"


def test_2026_doi_prefix_accepted() -> None:
    obs = parse_preprint(record(doi="10.64898/2026.07.31.741992", version="2"), TOPIC)
    assert obs is not None
    assert obs.url == "https://www.medrxiv.org/content/10.64898/2026.07.31.741992v2"


def test_error_status_with_200_is_an_error() -> None:
    with pytest.raises(FetchError, match="status 'error'"):
        parse_details({"messages": [{"status": "error"}], "collection": []})


# --- poll: through respx ------------------------------------------------------------------


def test_poll_steps_the_cursor_by_the_count(mock: respx.MockRouter, http: Http) -> None:
    first = [record(doi=f"10.1101/2026.11.2{i}.1", title=f"Paper {i}") for i in range(3)]
    second = [record(doi="10.1101/2026.11.28.9")]
    pages = {0: page(first, 0, 4), 3: page(second, 3, 4)}
    route = mock.get(url__regex=rf"{BASE}/2026-11-27/2026-11-29/\d+/json").mock(
        side_effect=lambda r: httpx.Response(200, json=pages[int(r.url.path.split("/")[-2])])
    )
    result = MedrxivWatcher(http, lambda: TODAY).poll(TOPIC, {})
    assert [c.request.url.path.split("/")[-2] for c in route.calls] == ["0", "3"]
    assert [obs.key for obs in result.observations] == ["10.1101/2026.11.28.9"]
    assert result.meta == {"through": "2026-11-29"}


def test_newest_version_of_a_doi_wins(mock: respx.MockRouter, http: Http) -> None:
    both = [record(version="1"), record(version="2")]
    mock.get(url__regex=rf"{BASE}/.*").mock(return_value=httpx.Response(200, json=page(both, 0, 2)))
    [obs] = MedrxivWatcher(http, lambda: TODAY).poll(TOPIC, {}).observations
    assert obs.fields["version"] == "2"


def test_topics_share_one_read(mock: respx.MockRouter, http: Http, clock: FakeClock) -> None:
    route = mock.get(url__regex=rf"{BASE}/.*").mock(
        return_value=httpx.Response(200, json=load(INTERVAL))
    )
    watcher = MedrxivWatcher(http, lambda: TODAY, cache_seconds=60, clock=clock.monotonic)
    other = Topic("other", conditions=("FUS mutations",))
    watcher.poll(TOPIC, {})
    assert len(watcher.poll(other, {}).observations) == 1  # a topic first seen: read for it
    assert route.call_count == 2
    clock.sleep(61)  # next cycle: one read matches every topic seen
    assert len(watcher.poll(TOPIC, {}).observations) == 1
    assert len(watcher.poll(other, {}).observations) == 1
    assert route.call_count == 3


def test_cache_expires(mock: respx.MockRouter, http: Http, clock: FakeClock) -> None:
    route = mock.get(url__regex=rf"{BASE}/.*").mock(
        return_value=httpx.Response(200, json=load(NO_POSTS))
    )
    watcher = MedrxivWatcher(http, lambda: TODAY, cache_seconds=60, clock=clock.monotonic)
    watcher.poll(TOPIC, {})
    clock.sleep(61)
    assert watcher.poll(TOPIC, {}).observations == ()
    assert route.call_count == 2


def test_empty_body_is_a_failure_for_every_topic(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(url__regex=rf"{BASE}/.*").mock(return_value=httpx.Response(200, content=b""))
    watcher = MedrxivWatcher(http, lambda: TODAY)
    for topic in (TOPIC, Topic("other")):
        with pytest.raises(ParseError, match="empty body"):
            watcher.poll(topic, {})
    assert route.call_count == 1  # one failure shared, not one request per topic


def test_html_is_a_failure(mock: respx.MockRouter, http: Http) -> None:
    mock.get(url__regex=rf"{BASE}/.*").mock(
        return_value=httpx.Response(
            200, text="<html>down</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(ParseError, match="medRxiv details: expected JSON"):
        MedrxivWatcher(http, lambda: TODAY).poll(TOPIC, {})


def test_outage_catch_up_is_bounded(mock: respx.MockRouter, http: Http) -> None:
    route = mock.get(url__regex=rf"{BASE}/.*").mock(
        return_value=httpx.Response(200, json=load(NO_POSTS))
    )
    MedrxivWatcher(http, lambda: TODAY).poll(TOPIC, {"through": "2026-11-20"})
    MedrxivWatcher(http, lambda: TODAY).poll(TOPIC, {"through": "2025-01-01"})
    starts = [c.request.url.path.split("/")[3] for c in route.calls]
    assert starts == ["2026-11-19", "2026-10-30"]


def test_trial_number_in_abstract_matches() -> None:
    topic = Topic("ulefnersen", trials=("NCT04768972",))
    obs = parse_preprint(record(abstract="Participants of NCT04768972 were followed."), topic)
    assert obs is not None and obs.matched_alias == "NCT04768972"
