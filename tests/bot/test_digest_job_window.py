"""A digest day is sent once, after its window closed; a preview says which window it shows."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.digest.job import DigestStatus, send_digest
from state.types import Severity
from tests.bot.digest_factories import add_alert
from tests.bot.test_mailer import DAY, DUE, TEAM, app_for, smtp, write_config
from tests.fakes.smtp import FakeSmtp

__all__ = ["smtp"]  # the fixture, shared with test_mailer


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"SLACK_BOT_TOKEN": ""})
    return result.exit_code, result.stdout, result.stderr


def test_an_open_day_is_refused_and_its_later_high_alert_is_sent_when_it_closes(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    with app_for(write_config(tmp_path, db_url, smtp.port)) as application:
        add_alert(application.store, DUE - timedelta(hours=5))
        early = send_digest(application, now=DUE - timedelta(hours=2), day=DAY)
        assert early.status is DigestStatus.NOT_DUE
        assert "closes at 2026-11-22 08:00 Europe/Zurich (07:00 UTC)" in early.message
        assert smtp.received == [] and application.store.digest_run(DAY, TEAM) is None

        add_alert(application.store, DUE - timedelta(minutes=30), severity=Severity.HIGH)
        scheduled = send_digest(application, now=DUE)
    assert scheduled.status is DigestStatus.SENT and scheduled.events == 2
    assert smtp.received[0].message["Subject"].endswith("2 new events (1 high)")


def test_the_cli_refuses_to_send_a_day_not_over_yet(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    config = str(write_config(tmp_path, db_url, smtp.port))
    code, out, err = cli("digest", "--send", "--day", "2099-01-01", "--config", config)
    assert code == 2 and out == ""
    assert "its window is still open" in err
    assert "2099-01-01 08:00 Europe/Zurich (07:00 UTC)" in err
    assert smtp.received == []


def test_a_preview_names_its_window_and_when_the_current_one_is_due(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    config = str(write_config(tmp_path, db_url, smtp.port))
    code, out, err = cli("digest", "--config", config)
    assert code == 0 and "No new events" in out
    # The real clock: the default day's window is over, the next one is due at 08:00.
    assert "note: this is the digest of " in err
    assert "Europe/Zurich); alerts since then go into the digest of " in err
    assert re.search(r"due at \S+ 08:00 Europe/Zurich \(0[67]:00 UTC\)", err)  # CET or CEST
