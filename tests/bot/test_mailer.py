"""The digest mailed to a real SMTP server (aiosmtpd on 127.0.0.1) and parsed back.

Also: once a day per recipient list across a restart, retry after a failure, the crash window,
and the `trialwatch digest` command.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.app import App, open_app
from bot.cli import app as cli
from bot.config import load_settings
from bot.digest.job import (
    MAX_ATTEMPTS,
    DigestStatus,
    digest_job_for,
    retry_failed_digest,
    send_digest,
)
from bot.digest.mailer import Mailer, MailError, build_message
from state.digest_log import DigestState
from state.types import ChangeKind, Severity
from tests.bot.digest_factories import MARKUP, STATUS, add_alert
from tests.factories import Clock
from tests.fakes.smtp import FakeSmtp, smtp_server

TEAM = ["clinical-team@example.org", "medical@example.org"]
# 2026-11-22 08:00 Europe/Zurich, when the cron fires.
DUE = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
DAY = date(2026, 11, 22)
PASSWORD = "s3cret-smtp-pass"


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with smtp_server() as server:
        yield server


def write_config(tmp_path: Path, db_url: str, port: int, *, when_quiet: bool = True) -> Path:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363"]
trials = ["NCT04768972"]

[digest]
to = {TEAM!r}
sender = "trialwatch <trialwatch@example.org>"
smtp_host = "127.0.0.1"
smtp_port = {port}
time = "08:00"
timezone = "Europe/Zurich"
send_when_quiet = {"true" if when_quiet else "false"}
"""
    )
    return path


@contextmanager
def app_for(path: Path, env: dict[str, str] | None = None) -> Iterator[App]:
    with open_app(load_settings(str(path), env=env or {}), clock=Clock(DUE)) as application:
        yield application


@pytest.fixture
def application(tmp_path: Path, db_url: str, smtp: FakeSmtp) -> Iterator[App]:
    with app_for(write_config(tmp_path, db_url, smtp.port)) as opened:
        yield opened


def parts(message: Message) -> dict[str, str]:
    """content type -> decoded text of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    found = {}
    for part in message.get_payload():
        assert isinstance(part, Message)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[part.get_content_type()] = payload.decode(part.get_content_charset() or "ascii")
    return found


def test_the_digest_arrives_as_multipart_text_and_html(application: App, smtp: FakeSmtp) -> None:
    add_alert(
        application.store,
        DUE - timedelta(hours=3),
        severity=Severity.HIGH,
        field_changes=(STATUS,),
        claim_label="confirmed by FDA Drugs@FDA NDA 215123",
    )
    add_alert(
        application.store,
        DUE - timedelta(hours=2),
        kind=ChangeKind.NEW,
        source="feed:FDA press releases",
        title=MARKUP,
    )

    outcome = send_digest(application, now=DUE)

    assert outcome.status is DigestStatus.SENT
    [received] = smtp.received
    assert received.mail_from == "trialwatch@example.org"
    assert sorted(received.rcpt_tos) == TEAM
    message = received.message
    assert message["Subject"] == "trialwatch digest 2026-11-22: 2 new events (1 high)"
    assert message["From"] == "trialwatch <trialwatch@example.org>"
    assert message["To"] == ", ".join(TEAM)
    assert parsedate_to_datetime(message["Date"]) == DUE
    assert message["Message-ID"].endswith("@example.org>")
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert "• Status: Active, not recruiting → Completed" in body["text/plain"]
    assert MARKUP in body["text/plain"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;FDA&lt;/b&gt;" in body["text/html"]
    assert "<script>" not in body["text/html"]
    assert "Claim check:</em> confirmed by FDA Drugs@FDA NDA 215123" in body["text/html"]


def test_a_second_send_the_same_day_sends_nothing_even_after_a_restart(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    config = write_config(tmp_path, db_url, smtp.port)
    with app_for(config) as first:
        assert send_digest(first, now=DUE).status is DigestStatus.SENT
        later = send_digest(first, now=DUE + timedelta(hours=5))
        assert later.status is DigestStatus.ALREADY_SENT
        assert "already sent at 2026-11-22 08:00 Europe/Zurich" in later.message

    with app_for(config) as restarted:  # a fresh Store and App on the same database
        again = send_digest(restarted, now=DUE + timedelta(hours=6))
        assert again.status is DigestStatus.ALREADY_SENT
        assert len(smtp.received) == 1

        forced = send_digest(restarted, now=DUE + timedelta(hours=6), force=True)
        assert forced.status is DigestStatus.SENT
        assert len(smtp.received) == 2

        # The next morning is a new day.
        assert send_digest(restarted, now=DUE + timedelta(days=1)).status is DigestStatus.SENT
        assert smtp.received[2].message["Subject"].startswith("trialwatch digest 2026-11-23")


def test_a_failed_send_is_retried_later_the_same_day(tmp_path: Path, db_url: str) -> None:
    with smtp_server() as smtp:
        port = smtp.port
    # Nothing listens on `port` any more: the send fails, and says why in plain words.
    config = write_config(tmp_path, db_url, port)
    with app_for(config) as application:
        failed = send_digest(application, now=DUE)
        assert failed.status is DigestStatus.FAILED
        assert f"SMTP server 127.0.0.1:{port}: connection refused" in failed.message
        run = application.store.digest_run(DAY, TEAM)
        assert run is not None and run.state is DigestState.FAILED

    with smtp_server() as smtp:
        config = write_config(tmp_path, db_url, smtp.port)
        with app_for(config) as application:
            assert send_digest(application, now=DUE + timedelta(hours=1)).status is (
                DigestStatus.SENT
            )
            assert len(smtp.received) == 1


def test_a_claim_never_confirmed_is_not_resent_unless_forced(
    application: App, smtp: FakeSmtp
) -> None:
    # A run that died between claiming and marking: its mail may or may not have left.
    application.store.claim_digest(DAY, TEAM, at=DUE)

    outcome = send_digest(application, now=DUE + timedelta(hours=1))
    assert outcome.status is DigestStatus.IN_FLIGHT
    assert "may or may not have arrived" in outcome.message and "--force" in outcome.message
    assert smtp.received == []

    assert send_digest(application, now=DUE, force=True).status is DigestStatus.SENT
    assert len(smtp.received) == 1


def test_a_quiet_day_is_sent_by_default(application: App, smtp: FakeSmtp) -> None:
    assert send_digest(application, now=DUE).status is DigestStatus.SENT
    text = parts(smtp.received[0].message)["text/plain"]
    assert smtp.received[0].message["Subject"] == "trialwatch digest 2026-11-22: no new events"
    assert "No new events" in text


def test_a_quiet_day_is_not_sent_when_send_when_quiet_is_false(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    with app_for(write_config(tmp_path, db_url, smtp.port, when_quiet=False)) as application:
        outcome = send_digest(application, now=DUE)
        assert outcome.status is DigestStatus.QUIET
        assert smtp.received == []
        # A day with news is still sent.
        add_alert(application.store, DUE + timedelta(hours=1))
        assert send_digest(application, now=DUE + timedelta(days=1)).status is DigestStatus.SENT
        assert len(smtp.received) == 1


def test_the_cron_job_sends_the_day_once(application: App, smtp: FakeSmtp) -> None:
    job = digest_job_for(application)  # what `trialwatch run` schedules at [digest].time
    assert job().status is DigestStatus.SENT
    assert job().status is DigestStatus.ALREADY_SENT
    assert len(smtp.received) == 1


def test_a_failed_day_is_retried_by_the_retry_job_a_few_times(tmp_path: Path, db_url: str) -> None:
    with smtp_server() as smtp:
        port = smtp.port
    with app_for(write_config(tmp_path, db_url, port)) as application:
        assert retry_failed_digest(application, now=DUE) is None  # nothing failed yet
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outcome = send_digest(application, now=DUE) if attempt == 1 else None
            outcome = outcome or retry_failed_digest(application, now=DUE)
            assert outcome is not None and outcome.status is DigestStatus.FAILED
        assert retry_failed_digest(application, now=DUE) is None  # gave up for the day

    with smtp_server() as smtp, app_for(write_config(tmp_path, db_url, smtp.port)) as application:
        # A manual send still works, and afterwards there is nothing left to retry.
        assert send_digest(application, now=DUE).status is DigestStatus.SENT
        assert retry_failed_digest(application, now=DUE) is None
        assert len(smtp.received) == 1


# -- the mailer on its own -------------------------------------------------------------------


def message() -> EmailMessage:
    return build_message(
        subject="s", sender="trialwatch@example.org", to=TEAM, text="t", html="<p>h</p>", at=DUE
    )


def test_login_with_smtp_username_and_password() -> None:
    with smtp_server(users={"trialwatch": PASSWORD}) as smtp:
        mailer = Mailer(
            "127.0.0.1",
            smtp.port,
            username=SecretStr("trialwatch"),
            password=SecretStr(PASSWORD),
        )
        assert mailer.send(message()) == {}
        assert smtp.logins == ["trialwatch"]
        assert len(smtp.received) == 1


def test_a_rejected_login_is_a_clear_error_without_the_password() -> None:
    with smtp_server(users={"trialwatch": "the-right-one"}) as smtp:
        mailer = Mailer(
            "127.0.0.1", smtp.port, username=SecretStr("trialwatch"), password=SecretStr(PASSWORD)
        )
        with pytest.raises(MailError) as caught:
            mailer.send(message())
    text = str(caught.value)
    assert "the server rejected the login (535" in text
    assert PASSWORD not in text and PASSWORD not in repr(mailer)
    assert smtp.received == []


def test_the_password_is_never_sent_unencrypted_over_a_network() -> None:
    mailer = Mailer(
        "smtp.example.org", 25, username=SecretStr("trialwatch"), password=SecretStr(PASSWORD)
    )
    with pytest.raises(MailError, match=r"refusing to log in without encryption; set"):
        mailer.send(message())


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_starttls_then_login(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    with smtp_server(users={"trialwatch": PASSWORD}, tls_context=server_context) as smtp:
        mailer = Mailer(
            "127.0.0.1",
            smtp.port,
            starttls=True,
            username=SecretStr("trialwatch"),
            password=SecretStr(PASSWORD),
            ssl_context=client_context,
        )
        mailer.send(message())
        # Without trusting the certificate, nothing is sent and the error says why.
        untrusting = Mailer("127.0.0.1", smtp.port, starttls=True)
        with pytest.raises(MailError, match="TLS certificate could not be verified"):
            untrusting.send(message())
    assert smtp.logins == ["trialwatch"] and len(smtp.received) == 1


# -- the command -----------------------------------------------------------------------------


def test_cli_prints_then_sends_once_then_only_when_forced(
    tmp_path: Path, db_url: str, smtp: FakeSmtp
) -> None:
    config = str(write_config(tmp_path, db_url, smtp.port))
    with app_for(Path(config)) as application:
        add_alert(application.store, DUE - timedelta(hours=1), title=MARKUP)
    runner = CliRunner()
    digest = ["digest", "--config", config, "--day", "2026-11-22"]

    preview = runner.invoke(cli, digest)
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.startswith("Subject: trialwatch digest 2026-11-22: 1 new event\n")
    assert MARKUP in preview.stdout  # the text version, as written
    assert smtp.received == []

    sent = runner.invoke(cli, [*digest, "--send"])
    assert sent.exit_code == 0, sent.output
    assert "digest 2026-11-22 sent to 2 recipient(s)" in sent.stdout
    assert len(smtp.received) == 1

    again = runner.invoke(cli, [*digest, "--send"])
    assert again.exit_code == 0, again.output
    assert "already sent" in again.stdout and "nothing sent" in again.stdout
    assert len(smtp.received) == 1

    noted = runner.invoke(cli, digest)
    assert "already sent" in noted.stderr

    forced = runner.invoke(cli, [*digest, "--send", "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(smtp.received) == 2


def test_cli_send_failure_exits_1_with_the_reason(tmp_path: Path, db_url: str) -> None:
    with smtp_server() as smtp:
        port = smtp.port
    config = str(write_config(tmp_path, db_url, port))
    result = CliRunner().invoke(
        cli,
        ["digest", "--config", config, "--send"],
        env={"SMTP_USERNAME": "trialwatch", "SMTP_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 1
    assert "NOT sent" in result.stderr and "connection refused" in result.stderr
    assert PASSWORD not in result.output


def test_cli_rejects_force_without_send_and_a_bad_day(tmp_path: Path, db_url: str) -> None:
    config = str(write_config(tmp_path, db_url, 25))
    force = CliRunner().invoke(cli, ["digest", "--config", config, "--force"])
    assert force.exit_code == 2 and "--force only applies together with --send" in force.stderr
    bad = CliRunner().invoke(cli, ["digest", "--config", config, "--day", "22.11.2026"])
    assert bad.exit_code == 2 and "not a date like 2026-11-22" in bad.stderr
