"""Registry history: imported silently after `check`, only missing versions, own health line.

The end-to-end part runs the real CLI against a respx-mocked registry and history API
(derived FUSION fixtures, tests/bot/history_world.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.polling.history_import import FAILURES_IN_A_ROW, HistoryImport
from state.store import Store
from tests.bot.history_world import FUSION, HistoryApi
from tests.bot.test_end_to_end import CTGOV, Registry
from watchers.ctgov.history import HistoryClient
from watchers.model import Topic
from watchers.net.http import Http, build_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def mocked() -> Iterator[tuple[Registry, HistoryApi]]:
    registry = Registry()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{CTGOV}/version").mock(side_effect=registry.version)
        router.get(f"{CTGOV}/studies/{FUSION}").mock(side_effect=registry.by_id)
        router.get(f"{CTGOV}/studies").mock(side_effect=registry.search)
        yield registry, HistoryApi(router)


def config(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f'[storage]\nurl = "{db_url}"\n'
        f'[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\ntrials = ["{FUSION}"]\n'
        f'[sources.clinicaltrials]\nbase_url = "{CTGOV}"\n'
        "[http]\nmin_interval = 0.001\nmax_retries = 0\nbackoff = 0.001\n"
    )
    return str(path)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    return result.output


def test_status_prints_each_dates_moves_from_the_imported_history(
    tmp_path: Path, db_url: str, mocked: tuple[Registry, HistoryApi]
) -> None:
    registry, history = mocked
    path = config(tmp_path, db_url)
    out = cli("check", "--config", path)
    assert "changed" not in out  # history never alerts; the first poll is a baseline
    assert history.requests == ["history", "0", "1", "2", "3"]
    status = cli("status", FUSION, "--config", path)
    assert "Status: Not yet recruiting (2021-02-22) -> Recruiting (2021-06-15)" in status
    assert (
        "Primary completion moved twice: 2023-06 (est.) -> 2025-06 (est., 2023-02-01) "
        "-> 2026-09 (est., 2025-03-10) (39 months later in total)"
    ) in status
    assert f"Registry history {FUSION}: ok" in status

    # Nothing new in the record: the history API is not asked again.
    cli("check", "--config", path)
    assert len(history.requests) == 5

    # The live record is updated (its history list has not caught up yet): the list is read
    # again, no stored version is fetched twice, and the live date move says which move it is.
    status_module = registry.study["protocolSection"]["statusModule"]
    status_module["primaryCompletionDateStruct"] = {"date": "2026-12", "type": "ESTIMATED"}
    status_module["lastUpdatePostDateStruct"] = {"date": "2026-11-02", "type": "ACTUAL"}
    out = cli("check", "--config", path)
    assert (
        "(3rd move, 3 months later; 42 months later than first registered; "
        "now estimated to the month)" in out
    )
    assert history.requests[5:] == ["history"]  # the list again, no version fetched twice


def test_a_failing_history_api_fails_no_poll_and_has_its_own_health_line(
    tmp_path: Path, db_url: str, mocked: tuple[Registry, HistoryApi]
) -> None:
    registry, history = mocked
    path = config(tmp_path, db_url)
    history.failure = httpx.Response(503, text="upstream connect error")
    cli("check", "--config", path)
    registry.status("SUSPENDED")
    out = cli("check", "--config", path)
    assert "Status: Active, not recruiting → Suspended" in out  # the alert goes out
    status = cli("status", "ulefnersen", "--config", path)
    assert f"Registry history {FUSION}: FAILING" in status
    assert "2 failed import(s) in a row" in status
    assert "ClinicalTrials.gov: ok" in status  # the live source is healthy
    store = Store.open(db_url)
    try:
        assert store.history.versions(FUSION) == []
    finally:
        store.close()

    # It answers again but breaks off after two versions (garbage body): what was fetched
    # stays, and the next run fetches only what is missing.
    history.failure = None
    history.garbage_at = 2
    requests_before = len(history.requests)
    cli("check", "--config", path)
    assert history.requests[requests_before:] == ["history", "0", "1", "2"]
    history.garbage_at = None
    requests_before = len(history.requests)
    cli("check", "--config", path)
    assert history.requests[requests_before:] == ["history", "2", "3"]
    assert f"Registry history {FUSION}: ok" in cli("status", FUSION, "--config", path)


def test_a_history_api_that_is_down_costs_a_few_requests_per_run_and_everyone_gets_a_turn(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Six listed trials, the history API answering 404 for all: a run stops after three
    failures in a row with one summary line, and the next run tries the other three first."""
    trials = tuple(f"NCT0000000{n}" for n in range(1, 7))
    asked: list[str] = []

    def not_here(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path.split("/")[-2])
        return httpx.Response(404, text="not here")

    store = Store.open(db_url)
    try:
        with respx.mock(assert_all_called=False) as router:
            router.get(url__regex=r"^https://clinicaltrials\.gov/api/int/studies/.*").mock(
                side_effect=not_here
            )
            with build_client() as client:
                http = Http(client, min_interval=0, max_retries=0, sleep=lambda _s: None)
                ticks = iter(datetime(2026, 11, 30, hour, tzinfo=UTC) for hour in range(24))
                importer = HistoryImport(
                    HistoryClient(http), store.history, clock=lambda: next(ticks)
                )
                topic = Topic(name="ulefnersen", trials=trials)
                with caplog.at_level("WARNING", logger="bot.polling.history_import"):
                    first = importer.run([topic], store)
                    second = importer.run([topic], store)
                    third = importer.run([topic], store)
    finally:
        store.close()
    assert FAILURES_IN_A_ROW == 3
    assert asked == [*trials[:3], *trials[3:], *trials[:3]]
    assert [len(run) for run in (first, second, third)] == [3, 3, 3]
    paused = [r.getMessage() for r in caplog.records if "paused" in r.getMessage()]
    assert len(paused) == 3
    assert "3 trials failed in a row" in paused[0]
    assert "the other 3 wait for the next run" in paused[0]
