"""End to end: the real CLI, a respx-mocked registry, slack-sdk's WebClient against a fake Slack.

baseline (no post) -> status change (one post, every changed field) -> unchanged rerun (none)
-> Slack 500 (none, kept) -> Slack back (delivered once) -> registry 500 / garbage (no item
alerts, snapshot intact).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

import bot.app
from bot.cli import app
from state.store import Store
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.state.helpers import pending_alerts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ctgov"
CTGOV = "https://clinicaltrials.gov/api/v2"
TOKEN = "xoxb-e2e-not-a-real-token"


class Registry:
    """What the mocked ClinicalTrials.gov currently serves."""

    def __init__(self) -> None:
        self.study: dict[str, Any] = json.loads((FIXTURES / "ctgov_study.json").read_text())
        self.failure: httpx.Response | None = None
        self.calls = 0
        self.refreshes = 0
        self._served = json.dumps(self.study, sort_keys=True)

    def version(self, request: httpx.Request) -> httpx.Response:
        # Like the real registry, dataTimestamp moves whenever the data changed: here, whenever
        # the test changed the study since /version last answered
        # (docs/sources.md#clinicaltrialsgov).
        self.calls += 1
        if self.failure is not None:
            return self.failure
        current = json.dumps(self.study, sort_keys=True)
        if current != self._served:
            self._served = current
            self.refreshes += 1
        stamp = f"2026-10-{14 + self.refreshes:02d}T09:00:21"
        return httpx.Response(200, json={"apiVersion": "2.0.5", "dataTimestamp": stamp})

    def status(self, overall: str) -> None:
        self.study["protocolSection"]["statusModule"]["overallStatus"] = overall

    def by_id(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.failure or httpx.Response(200, json=self.study)

    def search(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.failure is not None:
            return self.failure
        if "query.cond" in request.url.params:
            return httpx.Response(200, json={"studies": [], "totalCount": 0})
        return httpx.Response(200, json={"studies": [copy.deepcopy(self.study)], "totalCount": 1})


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{CTGOV}/version").mock(side_effect=reg.version)
        router.get(f"{CTGOV}/studies/NCT04768972").mock(side_effect=reg.by_id)
        router.get(f"{CTGOV}/studies").mock(side_effect=reg.search)
        yield reg


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def write_config(tmp_path: Path, db_url: str, slack_url: str) -> Path:
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
base_url = "{CTGOV}"

[slack]
api_url = "{slack_url}"
channel = "#trial-alerts"

[http]
min_interval = 0.001
max_retries = 1
backoff = 0.001
"""
    )
    return path


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env={"SLACK_BOT_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    return result


def test_watch_loop_end_to_end(
    tmp_path: Path,
    db_url: str,
    registry: Registry,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(write_config(tmp_path, db_url, slack.base_url))
    check = ("check", "--config", config)
    # The CLI's Slack client as built for `check`, with its backoff on the injected clock.
    backoff: list[float] = []
    client = functools.partial(bot.app._build_slack_client, sleep=backoff.append)
    monkeypatch.setattr(bot.app, "_build_slack_client", client)

    # 1. First poll: a silent baseline.
    out = run(*check).output
    assert slack.posts == []
    assert "baseline" in out

    # 2. The trial completes: ONE post listing every changed field.
    registry.status("COMPLETED")
    status_module = registry.study["protocolSection"]["statusModule"]
    status_module["primaryCompletionDateStruct"] = {"date": "2026-08-28", "type": "ACTUAL"}
    registry.study["protocolSection"]["designModule"]["enrollmentInfo"] = {
        "count": 88,
        "type": "ACTUAL",
    }
    run(*check)
    assert len(slack.posts) == 1
    [post] = slack.posts
    assert post["channel"] == "#fus-als-watch"
    rendered = json.dumps(post["blocks"], ensure_ascii=False)
    for line in (
        "Status: Active, not recruiting → Completed",
        "Primary completion: 2026-09 (estimated) → 2026-08-28 (actual)",
        "Enrollment: 95 (estimated) → 88 (actual)",
    ):
        assert line in rendered
    assert "https://clinicaltrials.gov/study/NCT04768972" in rendered
    assert "ulefnersen" in post["text"]
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in slack.requests)

    # 3. Unchanged rerun: nothing, and only the /version probe was asked.
    calls = registry.calls
    run(*check)
    assert len(slack.posts) == 1
    assert registry.calls == calls + 1

    # 4. Results get posted while Slack answers 500: nothing delivered, the alert is kept.
    registry.study["hasResults"] = True
    slack.fail_with_status(500)
    out = run(*check).output
    assert len(slack.posts) == 1
    assert "still pending: 1" in out
    assert backoff == [0.5, 1.0]  # two retries, backing off, before keeping it for later
    store = Store.open(db_url)
    try:
        [kept] = pending_alerts(store.outbox, "slack")
        assert "Results posted: no → yes" in [fc.text for fc in kept.change.field_changes]
    finally:
        store.close()

    # 5. Slack is back: the kept alert is delivered exactly once, also across reruns.
    slack.recover()
    run(*check)
    run(*check)
    assert len(slack.posts) == 2
    assert "Results posted: no → yes" in json.dumps(slack.posts[1]["blocks"], ensure_ascii=False)

    # 6. The registry fails (500, then an HTML page with 200): no item alerts, snapshot intact.
    store = Store.open(db_url)
    before = store.snapshot("ulefnersen", "clinicaltrials")
    store.close()
    for failure in (
        httpx.Response(500, text="upstream connect error"),
        httpx.Response(200, html="<!DOCTYPE html><html><body>Service unavailable</body></html>"),
    ):
        registry.failure = failure
        out = run(*check).output
        assert "FAILED ClinicalTrials.gov" in out
    assert len(slack.posts) == 2
    store = Store.open(db_url)
    try:
        assert store.snapshot("ulefnersen", "clinicaltrials") == before
        [health] = store.health("ulefnersen")
        assert health.consecutive_failures == 2
        assert health.last_success is not None
    finally:
        store.close()

    # The registry comes back unchanged: no flood of "new", no "removed".
    registry.failure = None
    run(*check)
    assert len(slack.posts) == 2


def test_status_reads_stored_state_only(
    tmp_path: Path, db_url: str, registry: Registry, slack: FakeSlack
) -> None:
    config = str(write_config(tmp_path, db_url, slack.base_url))
    run("check", "--config", config)
    registry.status("SUSPENDED")
    run("check", "--config", config)
    calls = registry.calls

    for name in ("ulefnersen", "ION-363", "jacifusen", "nct04768972"):
        out = run("status", name, "--config", config).output
        assert "NCT04768972" in out
        assert "Status: Suspended" in out
        assert "Active, not recruiting → Suspended" in out  # the latest alert
        assert "ClinicalTrials.gov: ok" in out
    assert registry.calls == calls  # status never calls a source

    result = CliRunner().invoke(app, ["status", "tofersen", "--config", config])
    assert result.exit_code == 1
    assert "known topics: ulefnersen" in result.output


def test_console_output_without_slack(tmp_path: Path, sqlite_url: str, registry: Registry) -> None:
    config = write_config(tmp_path, sqlite_url, "https://slack.invalid/api/")
    runner = CliRunner()
    runner.invoke(app, ["check", "--config", str(config)], env={"SLACK_BOT_TOKEN": ""})
    registry.status("TERMINATED")
    result = runner.invoke(app, ["check", "--config", str(config)], env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0
    assert "🔴 ulefnersen · ClinicalTrials.gov · changed" in result.output
    assert "• Status: Active, not recruiting → Terminated" in result.output
    assert "delivered to console: 1" in result.output


def test_config_error_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[topics]]\nname = "x"\n[sources.clinicaltrials]\nbase_ur = "x"\n')
    result = CliRunner().invoke(app, ["check", "--config", str(bad)])
    assert result.exit_code == 2
    assert "sources.clinicaltrials.base_ur: unknown key" in result.output
