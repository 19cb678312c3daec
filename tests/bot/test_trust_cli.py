"""Operator truth: status after failures, restarts, logs, hostile text, database trouble."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import event, text

from bot.app import open_app
from bot.destinations.render import alert_console_text
from bot.logs import JsonFormatter, message_fields
from bot.polling.pipeline import poll_once
from bot.service.scheduler import due_after_restart
from bot.service.server import create_asgi_app
from bot.slack.status_card import status_blocks
from bot.status.terminal import status_text
from bot.terminal_text import one_line, printable
from state.types import Alert, Change, ChangeKind, PollOutcome, Severity, SourceHealth
from tests.bot.digest_factories import add_alert
from tests.bot.service_helpers import loaded_config
from tests.factories import T0, Clock, result, trial
from tests.fakes.forked import Forked
from tests.state.helpers import routed
from watchers.model import FetchError, SourceResult, Topic

REPO = Path(__file__).resolve().parents[2]
TOPIC = Topic(name="ulefnersen", aliases=(), trials=("NCT04768972",))
HOSTILE = (
    "FDA \x1b]8;;https://evil.example\x1b\\approves\x1b]8;;\x1b\\ \x1b[2J[/x]\nFAKE: all clear\x07"
)


class Failing:
    source = "clinicaltrials"

    def poll(self, topic: Topic, meta: object) -> SourceResult:
        raise FetchError("clinicaltrials.gov did not answer: DNS lookup failed")


class Answering:
    source = "clinicaltrials"

    def poll(self, topic: Topic, meta: object) -> SourceResult:
        # Big enough that it cannot fit in the few free pages the "full disk" leaves.
        return result(*(trial(f"NCT{i:08d}", brief_title="x" * 4000) for i in range(200)))


def health(**kw: object) -> SourceHealth:
    base: dict[str, object] = {
        "source": "clinicaltrials",
        "topic": "ulefnersen",
        "last_attempt": T0,
        "last_success": T0,
        "last_failure": None,
        "consecutive_failures": 0,
        "last_error": None,
        "down_since": None,
    }
    return SourceHealth(**{**base, **kw})  # type: ignore[arg-type]


# -- 8.6 status after failures --------------------------------------------------------------------


def test_status_says_when_and_why_the_last_poll_failed(db_url: str) -> None:
    clock = Clock(T0)
    with open_app(loaded_config(db_url), clock=clock, write=lambda _: None) as app:
        poll_once(Failing(), TOPIC, routed(app.store, {"console": None}), clock)  # type: ignore[arg-type]
        status = app.store.status("ulefnersen")
    text_card = status_text(TOPIC, status)
    reason = "clinicaltrials.gov did not answer: DNS lookup failed"
    assert (
        "none stored yet: the last ClinicalTrials.gov poll failed at "
        f"2026-11-01 08:00 UTC: {reason}" in text_card
    )
    assert "last poll failed at 2026-11-01 08:00 UTC, last success never" in text_card
    card = json.dumps(status_blocks(TOPIC, status, now=T0))
    assert (
        "None stored yet: the last ClinicalTrials.gov poll failed at 2026-11-01 08:00 UTC" in card
    )
    assert "has not run" not in card


# -- 8.7 restart after a failed check -------------------------------------------------------------


def test_failed_or_never_successful_sources_are_due_at_once() -> None:
    now = T0 + timedelta(minutes=5)
    rows = [
        health(source="ok"),
        health(source="failed", consecutive_failures=1, last_failure=T0),
        health(source="never", last_success=None, consecutive_failures=1),
    ]
    due = due_after_restart(
        rows, ["ok", "failed", "never", "unpolled"], ["ulefnersen"], {"ok": 3600}, now
    )
    assert due == {"ok": T0 + timedelta(hours=1)}


# -- 8.9 logs -------------------------------------------------------------------------------------


def test_json_logs_put_fields_as_keys_with_utc_milliseconds() -> None:
    record = logging.LogRecord(
        "bot.polling.pipeline",
        logging.WARNING,
        __file__,
        1,
        "poll source=%s topic=%s outcome=%s alerts=%d duration=%.2fs error=%s",
        ("pubmed", "ulefnersen", "failed", 0, 0.21, "host did not answer: connection refused"),
        None,
    )
    record.created = T0.timestamp() + 0.25
    line = json.loads(JsonFormatter().format(record))
    assert line["time"] == "2026-11-01T08:00:00.250Z"
    assert line["level"] == "warning"
    assert (line["source"], line["topic"], line["outcome"]) == ("pubmed", "ulefnersen", "failed")
    assert line["error"] == "host did not answer: connection refused"
    assert message_fields("slack command=/status text='a b' user=U1") == {
        "command": "/status",
        "text": "a b",
        "user": "U1",
    }


def test_failed_polls_log_a_warning(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(T0)
    with (
        open_app(loaded_config(db_url), clock=clock, write=lambda _: None) as app,
        caplog.at_level(logging.INFO, logger="bot.polling.pipeline"),
    ):
        poll_once(Failing(), TOPIC, routed(app.store, {"console": None}), clock)  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if "outcome=failed" in r.getMessage()]
    assert record.levelno == logging.WARNING


# -- 11.9 bad requests get 4xx, and are logged without the secret ---------------------------------


@pytest.mark.parametrize("stamp", ["9" * 400, "-" + "9" * 400, "nan", ""])
def test_hostile_timestamps_get_401_not_500(stamp: str, caplog: pytest.LogCaptureFixture) -> None:
    asgi = create_asgi_app(answer=lambda t: {}, health=lambda: {}, signing_secret="s3cret-signing")

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://tw") as client:
            return await client.post(
                "/slack/commands",
                content=b"text=x",
                headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=abc"},
            )

    with caplog.at_level(logging.WARNING):
        response = anyio.run(post)
    assert response.status_code == 401
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "slack command rejected status=401" in logged
    assert "s3cret-signing" not in logged and "v0=abc" not in logged


# -- 11.3 source text is never markup or escapes on a terminal ------------------------------------


def test_terminal_text_strips_escapes_and_folds_lines() -> None:
    assert one_line(HOSTILE) == "FDA approves [/x] FAKE: all clear"
    assert printable("a\x1b[31mb\r\nc\x00") == "ab\nc"


def test_console_alerts_cannot_forge_lines_or_escape() -> None:
    change = Change(
        kind=ChangeKind.NEW,
        topic="ulefnersen",
        source="feed:FDA",
        key="k",
        title=HOSTILE,
        url="https://fda.example/a",
        severity=Severity.HIGH,
        detail=HOSTILE,
    )
    rendered = alert_console_text(Alert(id=1, created_at=T0, change=change))
    assert "\x1b" not in rendered and "\x07" not in rendered
    assert not any(line.startswith("FAKE") for line in rendered.splitlines())


def _trialwatch(*args: str, cwd: Path, drop_root: bool = False) -> subprocess.CompletedProcess[str]:
    """`trialwatch ARGS` in a real process: forked ready-imported (tests/fakes/forked.py), or,
    to drop root's capabilities, a fresh interpreter under setpriv."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": "", "COLUMNS": "80"}
    if not drop_root:
        process = Forked("bot.cli:main", *args, cwd=cwd, env=env)
        out, err = process.communicate(timeout=120)
        return subprocess.CompletedProcess(list(args), process.wait(), out, err)
    # root ignores file modes: drop the capability that lets it
    command = [
        *("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"),
        *(sys.executable, "-m", "bot.cli", *args),
    ]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_status_in_a_real_process_shows_hostile_errors_inert(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    config = tmp_path / "trialwatch.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n[[topics]]\nname = "ulefnersen"\n')
    clock = Clock(T0)
    with open_app(loaded_config(f"sqlite:///{db}"), clock=clock, write=lambda _: None) as app:
        routed(app.store, {"console": None}).record_failure(
            "ulefnersen",
            "clinicaltrials",
            HOSTILE,
            started=T0,
            at=T0,
        )
    done = _trialwatch("status", "ulefnersen", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "FDA approves [/x] FAKE: all clear" in done.stdout
    assert not any(line.startswith("FAKE") for line in done.stdout.splitlines())


# -- 11.10 database trouble -----------------------------------------------------------------------


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None, reason="needs setpriv as root"
)
def test_a_read_only_database_serves_status_and_refuses_check_in_one_sentence(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "tw.db"
    config = tmp_path / "trialwatch.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n[[topics]]\nname = "ulefnersen"\n')
    with open_app(loaded_config(f"sqlite:///{db}"), clock=Clock(T0), write=lambda _: None) as app:
        routed(app.store, {"console": None}).apply_poll(result(trial()), started=T0, at=T0)
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        root = os.geteuid() == 0
        status = _trialwatch(
            "status", "ulefnersen", "--config", str(config), cwd=tmp_path, drop_root=root
        )
        check = _trialwatch("check", "--config", str(config), cwd=tmp_path, drop_root=root)
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)
    assert status.returncode == 0, status.stderr
    assert "NCT04768972" in status.stdout
    assert check.returncode == 1
    assert "is read-only" in check.stderr and "Traceback" not in check.stderr


def test_a_full_disk_fails_that_poll_and_the_others_go_on(sqlite_url: str) -> None:
    clock = Clock(T0)
    with open_app(loaded_config(sqlite_url), clock=clock, write=lambda _: None) as app:
        with app.store.engine.connect() as connection:
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()

        @event.listens_for(app.store.engine, "connect")
        def _small_disk(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]

        app.store.engine.dispose()
        big = Topic(name="ulefnersen", aliases=(), trials=())
        summaries = [
            poll_once(Answering(), big, routed(app.store, {"console": None}), clock),  # type: ignore[arg-type]
            poll_once(Failing(), TOPIC, routed(app.store, {"console": None}), clock),  # type: ignore[arg-type]
        ]
    assert [s.outcome for s in summaries] == [PollOutcome.FAILED, PollOutcome.FAILED]
    assert summaries[0].error is not None and "could not store the poll" in summaries[0].error
    assert "full" in summaries[0].error


def test_the_text_digest_shows_hostile_titles_inert(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{db}"\n[[topics]]\nname = "ulefnersen"\n'
        '[digest]\nto = ["team@example.org"]\ntime = "08:00"\ntimezone = "UTC"\n'
    )
    with open_app(loaded_config(f"sqlite:///{db}"), clock=Clock(T0), write=lambda _: None) as app:
        add_alert(app.store, datetime(2026, 11, 22, 7, 0, tzinfo=UTC), title=HOSTILE)
    done = _trialwatch("digest", "--config", str(config), "--day", "2026-11-22", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "FDA approves [/x] FAKE: all clear" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert not any(line.startswith("FAKE") for line in done.stdout.splitlines())


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = HOSTILE.encode()
        self.send_response(400)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def test_check_in_a_real_process_prints_a_hostile_source_error_inert(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    # shutdown() waits for the loop to notice it, once per poll interval (0.5 s by default)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        config = tmp_path / "trialwatch.toml"
        config.write_text(
            f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n[[topics]]\nname = "ulefnersen"\n'
            '[[sources.feeds]]\nname = "Hostile"\n'
            f'url = "http://127.0.0.1:{server.server_address[1]}/feed.xml"\n'
            "[http]\nmin_interval = 0.001\nmax_retries = 0\n"
        )
        done = _trialwatch("check", "-v", "--config", str(config), cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert "FAILED Hostile" in done.stdout
    assert "FDA approves [/x] FAKE: all clear" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
    assert not any(line.startswith("FAKE") for line in done.stdout.splitlines())
