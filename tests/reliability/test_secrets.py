"""Secrets never leak: `trialwatch check` with every secret set while sources echo requests back.

The sources answer with errors that repeat the request (its URL and query string, the api_key
in several spellings), for long enough that a "source down" alert carrying the last error is
posted to Slack. Every secret value is then looked for in the raw log records (captured at
DEBUG, before any redaction), the CLI's output, the Slack posts and `trialwatch status`.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

import bot.cli.common
from bot.cli import app
from bot.polling.fetch import RedactingWatcher
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.reliability.sources import (
    CtGovSource,
    EmaSource,
    FakeSource,
    FeedSource,
    GoogleNewsSource,
    OpenFdaSource,
    PubMedSource,
    serving,
)
from watchers.model import FetchError, ParseError, SourceError, SourceResult, Topic
from watchers.text.redact import Redactor

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-4242-leakcheck-slackbottoken",
    "SLACK_SIGNING_SECRET": "leakcheck-signing-secret-8f3a",
    "SLACK_APP_TOKEN": "xapp-1-leakcheck-apptoken",
    "SMTP_USERNAME": "leakcheck-smtp-user",
    "SMTP_PASSWORD": "leakcheck-smtp-password-77",
    "OPENFDA_API_KEY": "leakcheckOpenFdaKey0001",
    "NCBI_API_KEY": "leakcheckNcbiKey0002",
}
KEYS = (SECRETS["OPENFDA_API_KEY"], SECRETS["NCBI_API_KEY"])


def _query(request: httpx.Request) -> str:
    return request.url.query.decode()


# Ways a server repeats what it was sent, each one poll long (the api_keys ride in the URL).
ECHOES: list[Callable[[FakeSource, httpx.Request], httpx.Response]] = [
    lambda s, r: httpx.Response(400, text=f"Bad request: GET {r.url}"),
    # NCBI's over-limit answer names the key it counted against (docs/sources.md#pubmed). Second, so
    # that it is the last error of the "source down" alert posted to Slack.
    lambda s, r: httpx.Response(
        400,
        json={"api-key": r.url.params.get("api_key", "none"), "error": "API key invalid"},
    ),
    lambda s, r: httpx.Response(
        400, json={"error": {"code": "BAD_REQUEST", "message": f"invalid query {_query(r)}"}}
    ),
    lambda s, r: httpx.Response(
        403, text=f"api_key {r.url.params.get('api_key', '-')} is not allowed from this IP"
    ),
    lambda s, r: httpx.Response(
        200,
        text=f"{r.url.params.get('api_key', '-')} {r.url}",
        headers={"content-type": "text/plain"},
    ),
    lambda s, r: httpx.Response(200, json={"error": f"API key invalid: {_query(r)}"}),
    lambda s, r: httpx.Response(500, text=f"upstream failed for {r.url}"),
]


def _connect_error(source: FakeSource, request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"All connection attempts failed for {request.url}", request=request)


ECHOES.append(_connect_error)


class Echoing:
    """Applies the same echo to every source, then moves to the next one."""

    def __init__(self, sources: list[FakeSource]) -> None:
        self.sources = sources
        self.index = 0

    def next(self) -> None:
        echo = ECHOES[self.index % len(ECHOES)]
        self.index += 1
        for fake in self.sources:
            fake.fault = echo


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


@pytest.fixture
def raw_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, as emitted: seen before the redacting handler rewrites it."""
    configure = bot.cli.common.configure_logging

    def configure_and_capture(level: int, secrets: Any, **kwargs: Any) -> None:
        configure(logging.DEBUG, secrets, **kwargs)
        logging.getLogger().handlers.insert(0, caplog.handler)
        caplog.handler.setLevel(logging.DEBUG)

    monkeypatch.setattr(bot.cli.common, "configure_logging", configure_and_capture)
    return caplog


def write_config(tmp_path: Path, sqlite_url: str, slack_url: str) -> str:
    ctgov, feed, ema = CtGovSource(), FeedSource(), EmaSource()
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{sqlite_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363", "tofersen"]
trials = ["NCT04768972"]
conditions = ["FUS-ALS"]
slack_channel = "#fus-als-watch"

[sources.clinicaltrials]
base_url = "{ctgov.base_url}"

[sources.openfda]
base_url = "https://{OpenFdaSource.host}"

[sources.pubmed]
base_url = "https://{PubMedSource.host}/entrez/eutils"

[sources.google_news]
base_url = "https://{GoogleNewsSource.host}/rss/search"

[sources.ema_medicines]
url = "{ema.url}"

[[sources.feeds]]
name = "FDA press releases"
url = "{feed.url}"
authority = "FDA"

[slack]
api_url = "{slack_url}"
channel = "#trial-alerts"

[health]
failures_before_alert = 2

[http]
min_interval = 0.001
max_retries = 1
backoff = 0.001
"""
    )
    return str(path)


def test_no_secret_reaches_logs_output_slack_or_status(
    tmp_path: Path,
    sqlite_url: str,
    slack: FakeSlack,
    raw_logs: pytest.LogCaptureFixture,
) -> None:
    config = write_config(tmp_path, sqlite_url, slack.base_url)
    sources: list[FakeSource] = [
        CtGovSource(),
        OpenFdaSource(),
        PubMedSource(),
        GoogleNewsSource(),
        EmaSource(),
        FeedSource(),
    ]
    echoing = Echoing(sources)
    runner = CliRunner()
    outputs = []
    with serving(sources):
        result = runner.invoke(app, ["check", "-v", "--config", config], env=SECRETS)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
        for _ in ECHOES:
            echoing.next()
            result = runner.invoke(app, ["check", "-v", "--config", config], env=SECRETS)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        result = runner.invoke(app, ["status", "ulefnersen", "--config", config], env=SECRETS)
        outputs.append(result.output)
    urls = [url for fake in sources for url in fake.urls]

    # The test is only meaningful if the keys were really sent and echoed, and alerts posted.
    assert any(SECRETS["OPENFDA_API_KEY"] in url for url in urls)
    assert any("FAILED" in out for out in outputs)
    assert any("not answering" in str(post) and "api-key" in str(post) for post in slack.posts)
    # Formatted as each record was emitted: the redacting handler rewrites records after that.
    logged = raw_logs.text
    assert "poll source=pubmed" in logged

    places = {
        "log records": logged,
        "CLI output": "\n".join(outputs),
        "Slack posts": "\n".join(str(post) for post in slack.posts),
    }
    leaks = [
        f"{secret_name} appears in the {place}"
        for secret_name, value in SECRETS.items()
        for place, text in places.items()
        if value in text
    ]
    assert leaks == []
    # The bot token goes to Slack, and only in the Authorization header.
    assert {auth for _, _, auth in slack.requests} == {f"Bearer {SECRETS['SLACK_BOT_TOKEN']}"}
    assert all(SECRETS["SLACK_BOT_TOKEN"] not in str(payload) for _, payload, _ in slack.requests)


def test_redactor_replaces_plain_and_url_encoded_values() -> None:
    redact = Redactor(["s3cr/et+key", "abc"])  # too short to redact safely: left alone
    assert redact("k=s3cr/et+key, k=s3cr%2Fet%2Bkey, k=s3cr%2Fet%2Bkey abc") == (
        "k=[redacted], k=[redacted], k=[redacted] abc"
    )


@pytest.mark.parametrize(
    "error",
    [
        FetchError("HTTP 400: key leakcheckKey9 refused", transient=False),
        ParseError("leakcheckKey9"),
    ],
)
def test_redacting_watcher_keeps_the_error_kind(error: SourceError) -> None:
    class Failing:
        source = "openfda"

        def poll(self, topic: Topic, meta: Mapping[str, str]) -> SourceResult:
            raise error

    watcher = RedactingWatcher(Failing(), Redactor(["leakcheckKey9"]))
    assert watcher.source == "openfda"
    with pytest.raises(SourceError) as raised:
        watcher.poll(Topic("ulefnersen"), {})
    assert type(raised.value) is type(error)
    assert raised.value.transient is error.transient
    assert "leakcheckKey9" not in str(raised.value)
    assert "[redacted]" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --- every encoding (issue 11.6) ------------------------------------------------------------

# A key with characters that URL, JSON and HTML encode differently.
ODD_KEY = "leak/check+OddKey0003"
ODD_SECRETS = {**SECRETS, "OPENFDA_API_KEY": ODD_KEY}
_USER, _PASSWORD = ODD_SECRETS["SMTP_USERNAME"], ODD_SECRETS["SMTP_PASSWORD"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _cut_short(key: str) -> str:
    # Http keeps 200 characters of an error body: 14 characters of the key fit.
    return "Bad request: " + "x" * 173 + f" {key} was refused"


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


ENCODED_ECHOES: list[Callable[[FakeSource, httpx.Request], httpx.Response]] = [
    lambda s, r: httpx.Response(400, text=f"bad key {_lower_hex(quote(ODD_KEY, safe=''))}"),
    lambda s, r: httpx.Response(
        400, text=f"bad request {str(r.url).lower()} key {ODD_KEY.lower()}"
    ),
    lambda s, r: httpx.Response(
        400,
        content=b'{"error": "invalid", "api-key": "' + ODD_KEY.replace("/", "\\/").encode() + b'"}',
        headers={"content-type": "application/json"},
    ),
    lambda s, r: httpx.Response(
        401, text=f"refused Authorization: Basic {_b64(f'{_USER}:{_PASSWORD}')}"
    ),
    lambda s, r: httpx.Response(400, text=_cut_short(ODD_KEY)),
    lambda s, r: httpx.Response(403, text=f"...{ODD_KEY[-10:]} is not allowed from this IP"),
]


def _leak_forms() -> dict[str, str]:
    """Every spelling of every secret that must appear nowhere, by a readable name."""
    forms = {}
    for name, value in ODD_SECRETS.items():
        forms[f"{name}"] = value
        forms[f"{name} lower-case percent"] = _lower_hex(quote(value, safe=""))
        forms[f"{name} all lower-case"] = value.lower()
        forms[f"{name} JSON-escaped"] = value.replace("/", "\\/")
        forms[f"{name} first 8"] = value[:8]
        forms[f"{name} last 8"] = value[-8:]
    forms["SMTP user:password base64"] = _b64(f"{_USER}:{_PASSWORD}")[:16]
    return forms


def test_no_secret_leaks_in_any_encoding_to_output_logs_status_slack_or_database(
    tmp_path: Path,
    sqlite_url: str,
    slack: FakeSlack,
    raw_logs: pytest.LogCaptureFixture,
) -> None:
    config = write_config(tmp_path, sqlite_url, slack.base_url)
    sources: list[FakeSource] = [OpenFdaSource(), PubMedSource(), FeedSource()]
    runner = CliRunner()
    outputs = []
    with serving(sources):
        result = runner.invoke(app, ["check", "-v", "--config", config], env=ODD_SECRETS)
        outputs.append(result.output)
        for echo in ENCODED_ECHOES:
            for fake in sources:
                fake.fault = echo
            result = runner.invoke(app, ["check", "-v", "--config", config], env=ODD_SECRETS)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        result = runner.invoke(app, ["status", "ulefnersen", "--config", config], env=ODD_SECRETS)
        outputs.append(result.output)

    # Meaningful only if sources failed, a "source down" alert was stored and posted.
    assert any("FAILED" in out for out in outputs)
    assert any("not answering" in str(post) for post in slack.posts)
    database = (tmp_path / "trialwatch.db").read_bytes().decode("utf-8", "replace")
    assert "source_down" in database
    places = {
        "log records": raw_logs.text,
        "CLI output and status": "\n".join(outputs),
        "Slack posts": "\n".join(str(post) for post in slack.posts),
        "database": database,
    }
    leaks = [
        f"{form_name} appears in the {place}"
        for form_name, form in _leak_forms().items()
        for place, text in places.items()
        if form in text
    ]
    assert leaks == []
