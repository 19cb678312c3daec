"""The registry-history import is bounded: a deadline per run and per request, capped work.

The deadlines run against real servers on 127.0.0.1 that trickle (tests/reliability/
hostile_server.py) with deadlines of a fraction of a second; the caps against the derived
FUSION history (tests/bot/history_world.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import respx

from bot.polling.history_import import HistoryImport, ImportLimits
from state.store import Store
from tests.bot.history_world import FUSION, HISTORY, HistoryApi, history_list
from tests.factories import Clock
from tests.reliability.hostile_server import Answer, hostile_server, raw, trickle, trickle_head
from watchers.ctgov.history import HistoryClient
from watchers.model import Topic
from watchers.net.http import Http, build_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TRIALS = ("NCT00000001", "NCT00000002")
LIST = json.dumps(history_list()).encode()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def _importer(store: Store, base: str, limits: ImportLimits) -> Iterator[HistoryImport]:
    with build_client() as client:  # the real client: 20 s timeouts the deadlines must cut
        http = Http(client, min_interval=0, max_retries=0)
        yield HistoryImport(HistoryClient(http, base), store.history, Clock(), limits)


@pytest.mark.parametrize(
    "answer", [trickle(LIST), trickle_head()], ids=["body trickled", "status line trickled"]
)
def test_a_trickling_history_api_never_holds_check_past_the_run_deadline(
    store: Store, answer: Answer
) -> None:
    limits = ImportLimits(deadline=0.4, request_deadline=0.4)
    with hostile_server([answer]) as server:
        for importer in _importer(store, server.url, limits):
            started = time.monotonic()
            outcomes = importer.run([Topic("ulefnersen", trials=TRIALS)], store)
            took = time.monotonic() - started
    assert took < 1.5  # the deadline and the walk-away grace, never the server's pace
    assert all(o.error is None for o in outcomes)  # cut by the run's deadline, not failed
    assert store.history.health(TRIALS) == []  # no trial is blamed for the run's deadline


def test_each_request_has_its_own_deadline_inside_the_run(store: Store) -> None:
    limits = ImportLimits(deadline=10.0, request_deadline=0.3)
    script = [trickle(LIST), raw("404 Not Found", b"no such study")]
    with hostile_server(script) as server:
        for importer in _importer(store, server.url, limits):
            started = time.monotonic()
            outcomes = importer.run([Topic("ulefnersen", trials=TRIALS)], store)
            took = time.monotonic() - started
    assert took < 2.0
    first, second = (o.error or "" for o in outcomes)
    assert "timed out" in first and "deadline of 0.3 s" in first
    assert "HTTP 404" in second  # the next trial still had its turn


def test_versions_beyond_the_cap_come_in_the_next_runs(store: Store) -> None:
    limits = ImportLimits(max_versions=2)
    with respx.mock(assert_all_mocked=True) as router:
        api = HistoryApi(router)
        for importer in _importer(store, HISTORY, limits):
            topic = Topic("ulefnersen", trials=(FUSION,))
            first = importer.run([topic], store)
            assert api.requests == ["history", "0", "1"]
            second = importer.run([topic], store)
            assert api.requests[3:] == ["history", "2", "3"]
    assert [(o.added, o.left) for o in (*first, *second)] == [(2, 2), (2, 0)]
    assert [v.version for v in store.history.versions(FUSION)] == [0, 1, 2, 3]


def test_a_version_list_longer_than_the_cap_is_refused_not_walked(store: Store) -> None:
    with respx.mock(assert_all_mocked=True) as router:
        api = HistoryApi(router)
        for importer in _importer(store, HISTORY, ImportLimits(max_listed=3)):
            [outcome] = importer.run([Topic("ulefnersen", trials=(FUSION,))], store)
    assert outcome.error == f"history list of {FUSION} has 4 versions, more than the 3 we read"
    assert api.requests == ["history"]
