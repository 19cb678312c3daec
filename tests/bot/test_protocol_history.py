"""A protocol change that exists only in the registry's history shows in `status NCT…`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from tests.bot.history_world import FUSION, HistoryApi, history_list, version_body
from tests.bot.test_end_to_end import CTGOV, Registry
from tests.bot.test_history_import import cli, config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
OLD = "Percentage of subjects reporting each severity rating on the 7-point ordinal scale"
NEW = "Time to recovery (ordinal scale 6 or 7)"


class AmendedHistory(HistoryApi):
    """FUSION's versions with the primary outcome measure switched in version 2."""

    def serve(self, request: httpx.Request) -> httpx.Response:
        response = super().serve(request)
        tail = request.url.path.rsplit("/", 1)[-1]
        if not tail.isdigit() or int(tail) < 2:
            return response
        body = version_body(self.nct, int(tail))
        body["study"]["protocolSection"]["outcomesModule"]["primaryOutcomes"][0]["measure"] = NEW
        return httpx.Response(200, json=body)


@pytest.fixture
def mocked() -> Iterator[Registry]:
    registry = Registry()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{CTGOV}/version").mock(side_effect=registry.version)
        router.get(f"{CTGOV}/studies/{FUSION}").mock(side_effect=registry.by_id)
        router.get(f"{CTGOV}/studies").mock(side_effect=registry.search)
        AmendedHistory(router)
        yield registry


def test_status_shows_a_primary_outcome_change_known_only_from_the_history(
    tmp_path: Path, db_url: str, mocked: Registry
) -> None:
    path = config(tmp_path, db_url)
    assert "changed" not in cli("check", "--config", path)  # history never alerts
    date = history_list()["changes"][2]["date"]
    status = cli("status", FUSION, "--config", path)
    assert f"Primary outcome changed once: v2 ({date}): {OLD} -> {NEW}" in status
    assert json.dumps(NEW) not in json.dumps(mocked.study)  # not in the live record


def test_the_slack_card_and_the_dashboard_show_it_too(
    tmp_path: Path, db_url: str, mocked: Registry
) -> None:
    from bot.cli.common import load_config
    from bot.dashboard.serve import render_topic
    from bot.read_only import open_reader
    from bot.slack.status_card import status_blocks

    path = config(tmp_path, db_url)
    cli("check", "--config", path)
    line = f"Primary outcome changed once: v2 ({history_list()['changes'][2]['date']})"
    with open_reader(load_config(path, False)) as application:
        topic = application.resolve_topic(FUSION)
        now = application.clock()
        card = status_blocks(topic, application.topic_status(topic.name), now=now)
        page = render_topic(application.store, topic, now)
    assert line in json.dumps(card, ensure_ascii=False)
    assert line in page
