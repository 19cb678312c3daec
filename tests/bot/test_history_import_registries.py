"""Only records of a source with a history get one: EU CTIS numbers never go to CT.gov."""

from __future__ import annotations

from dataclasses import replace

import pytest
import respx

from bot.polling.history_import import HistoryImport, history_trials
from state.store import Store
from tests.bot.history_world import FUSION, HistoryApi
from tests.factories import T0, Clock, result, trial
from tests.state.helpers import routed
from watchers.ctgov.history import HistoryClient
from watchers.ctis import spec as ctis
from watchers.model import SourceResult, Topic
from watchers.net.http import Http, build_client
from watchers.registry import spec_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EU_NUMBER = "2023-503711-38-00"
TOPIC = Topic(name="ulefnersen", aliases=("ION363",), trials=(FUSION,))


def _store_both_registries(store: Store) -> None:
    """The topic's ClinicalTrials.gov record and an EU CTIS record, both found by its alias."""
    routed(store, ()).apply_poll(result(trial(FUSION)), started=T0, at=T0)
    eu = replace(trial(EU_NUMBER), source=ctis.SOURCE, url=f"https://ctis.example/{EU_NUMBER}")
    routed(store, ()).apply_poll(
        SourceResult(source=ctis.SOURCE, topic=TOPIC.name, observations=(eu,)),
        started=T0,
        at=T0,
    )


def test_the_history_import_asks_only_for_records_whose_source_has_a_history(
    db_url: str,
) -> None:
    assert spec_for(ctis.SOURCE).history is None
    store = Store.open(db_url)
    try:
        _store_both_registries(store)
        assert list(history_trials(TOPIC, store)) == [FUSION]
        with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
            api = HistoryApi(router)
            with build_client() as client:
                http = Http(client, min_interval=0, max_retries=0, sleep=lambda _s: None)
                importer = HistoryImport(HistoryClient(http), store.history, Clock())
                outcomes = importer.run([TOPIC], store)
        assert [(o.nct, o.error) for o in outcomes] == [(FUSION, None)]
        assert api.requests[0] == "history"
        status = store.status(TOPIC.name, at=T0)
        assert [h.nct for h in status.history_health] == [FUSION]
    finally:
        store.close()


def test_a_failing_line_stored_for_an_eu_number_by_an_older_version_is_not_shown(
    db_url: str,
) -> None:
    store = Store.open(db_url)
    try:
        _store_both_registries(store)
        error = f"clinicaltrials.gov answered HTTP 404 for /api/int/studies/{EU_NUMBER}/history"
        store.history.record_failure(EU_NUMBER, at=T0, error=error)
        status = store.status(TOPIC.name, at=T0)
        assert EU_NUMBER in {
            t.observation.key for t in status.trials
        }  # the trial itself still shows
        assert [h.nct for h in status.history_health] == []
    finally:
        store.close()
