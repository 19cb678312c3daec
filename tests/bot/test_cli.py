"""The CLI as a newcomer meets it: help, version, offline `check`, config and database errors."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ConfigError, load_settings

FEEDS = ["FDA press releases", "EMA news", "Company news"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"SLACK_BOT_TOKEN": "", "COLUMNS": "80"})
    return result.exit_code, result.stdout, result.stderr


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write(tmp_path: Path, body: str, name: str = "trialwatch.toml") -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def feeds_config(tmp_path: Path, base: str) -> str:
    feeds = "".join(
        f'[[sources.feeds]]\nname = "{name}"\nurl = "{base}/{i}.xml"\n'
        for i, name in enumerate(FEEDS)
    )
    return write(
        tmp_path,
        f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n[[topics]]\nname = "ulefnersen"\n'
        f"{feeds}[http]\nmin_interval = 0.001\nmax_retries = 3\nbackoff = 0.01\n",
    )


# -- help and version ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "status", "digest", "run"])
def test_each_command_help_is_plain_with_one_example(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert out.count("Example:") == 1 and f"trialwatch {command}" in out
    assert "<bool>" not in out and "<str>" not in out
    assert ("-v, --verbose" in out) == (command in ("check", "run"))


def test_config_words_in_brackets_survive_in_help() -> None:
    _, out, _ = invoke("digest", "--help")
    assert "[digest].time" in out
    _, out, _ = invoke("status", "--help")
    assert "status [OPTIONS] NAME" in out.splitlines()[0]
    assert "NAME  A topic, one of its aliases, or an NCT id." in out


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("trialwatch ")


# -- offline ------------------------------------------------------------------------------------


def test_refused_connections_fail_fast_with_reasons_and_one_hint(tmp_path: Path) -> None:
    config = feeds_config(tmp_path, f"http://127.0.0.1:{closed_port()}")
    code, out, err = invoke("check", "--config", config)
    assert code == 0
    failures = [line for line in out.splitlines() if "FAILED" in line]
    assert len(failures) == 3 and all("connection refused" in line for line in failures)
    # The summary is the one record of each failure: no progress or log line repeats it.
    assert "connection refused" not in err
    assert "sources: 0 ok, 3 failed" in out
    assert out.count("is this machine offline or behind a proxy?") == 1
    assert "README#troubleshooting" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_dns_failure_is_a_network_failure_too(tmp_path: Path) -> None:
    config = feeds_config(tmp_path, "https://feeds.example.invalid")
    with respx.mock() as router:
        router.get(url__startswith="https://feeds.example.invalid/").mock(
            side_effect=httpx.ConnectError("[Errno -2] Name or service not known")
        )
        code, out, _ = invoke("check", "--config", config)
        assert router.calls.call_count == 6  # two tries per feed, not four
    assert code == 0
    assert "did not answer: DNS lookup failed" in out
    assert "behind a proxy?" in out


def test_the_hint_is_not_given_when_one_source_answered(tmp_path: Path) -> None:
    config = feeds_config(tmp_path, "https://feeds.example.org")
    with respx.mock() as router:
        router.get("https://feeds.example.org/0.xml").respond(
            200, text="<rss><channel><title>x</title></channel></rss>"
        )
        router.get(url__startswith="https://feeds.example.org/").mock(
            side_effect=httpx.ConnectError("[Errno 111] Connection refused")
        )
        _, out, _ = invoke("check", "--config", config)
    assert "sources: 1 ok, 2 failed" in out
    assert "behind a proxy?" not in out


def test_long_reasons_are_cut_to_80_columns_and_whole_with_verbose(tmp_path: Path) -> None:
    config = feeds_config(tmp_path, "https://feeds.example.org")
    reason = "upstream says: " + "very long explanation " * 6
    with respx.mock() as router:
        router.get(url__startswith="https://feeds.example.org/").respond(
            400, text=reason, headers={"content-type": "text/plain"}
        )
        _, short, _ = invoke("check", "--config", config)
        _, whole, _ = invoke("check", "-v", "--config", config)
    assert all(len(line) <= 80 for line in short.splitlines())
    assert len(short.splitlines()) <= 24
    assert "…" in short
    assert reason.strip() in whole


# -- source text on a terminal --------------------------------------------------------------------


def test_markup_in_a_source_error_is_printed_as_written(tmp_path: Path) -> None:
    config = feeds_config(tmp_path, "https://feeds.example.org")
    hostile = "bad [/x] [link=https://evil.example]click[/link] \x1b[31mred\x1b[0m\nFORGED line"
    with respx.mock() as router:
        router.get(url__startswith="https://feeds.example.org/").respond(
            400, text=hostile, headers={"content-type": "text/plain"}
        )
        code, out, _ = invoke("check", "-v", "--config", config)
    assert code == 0
    assert "bad [/x] [link=https://evil.example]click[/link] red FORGED line" in out
    assert "\x1b" not in out
    assert not any(line.startswith("FORGED") for line in out.splitlines())


# -- configuration and database errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:pw@db/x", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
        ("sqlite://trialwatch.db", "three slashes before a relative path"),
        ("sqlite:////no/such/folder/tw.db", "the directory '/no/such/folder' does not exist"),
        ("postgresql+psycopg2://u:pw@db/x", "driver 'psycopg2' is not installed"),
    ],
    ids=["dialect", "malformed", "two-slashes", "missing-dir", "driver"],
)
def test_storage_url_mistakes_are_configuration_errors(
    tmp_path: Path, url: str, expected: str
) -> None:
    config = write(tmp_path, f'[storage]\nurl = "{url}"\n[[topics]]\nname = "x"\n')
    code, _, err = invoke("status", "x", "--config", config)
    assert code == 2
    assert f"configuration error: {config}: invalid configuration" in err
    assert "storage.url: " in err and expected in err
    assert "pw" not in err and "Traceback" not in err


def test_an_unreachable_postgresql_server_is_one_sentence_without_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://watcher:s3cretpw@127.0.0.1:{closed_port()}/trialwatch"
    config = write(tmp_path, f'[storage]\nurl = "{url}"\n[[topics]]\nname = "x"\n')
    code, _, err = invoke("status", "x", "--config", config)
    assert code == 1
    assert err.count("\n") == 1
    assert "cannot connect to the database server at postgresql://watcher:***@127.0.0.1" in err
    assert "s3cretpw" not in err


def test_a_corrupt_sqlite_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "tw.db").write_bytes(b"this is not a database" * 100)
    config = write(
        tmp_path, f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n[[topics]]\nname = "x"\n'
    )
    code, _, err = invoke("check", "--config", config)
    assert code == 1
    assert "is not a readable SQLite database" in err and "Traceback" not in err


def test_a_topic_with_one_bad_key_reports_only_that_key(tmp_path: Path) -> None:
    config = write(tmp_path, '[[topics]]\nname = "x"\naliases = "ION363"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert 'topics[1] "x".aliases: expected an array, e.g. ["a", "b"] (got "ION363")' in message
    assert "at least 1" not in message and "tuple" not in message.lower()


def test_a_table_where_an_array_belongs_is_not_dumped(tmp_path: Path) -> None:
    config = write(tmp_path, '[topics]\nname = "x"\naliases = ["a", "b"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).endswith('topics: expected an array, e.g. ["a", "b"] (got a table)')
    assert "{" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[[topics]]\nname = "x"\n\n[sources.clinicaltrials\n', 4),
        ('[[topics]]\nname = "x\n[http]\n', 2),
        ('[[topics]]\nname = "x"\nname = "y"\n', 3),
    ],
    ids=["table-header", "unterminated-string", "duplicate-key"],
)
def test_toml_syntax_errors_name_the_line(tmp_path: Path, text: str, line: int) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    first, shown = str(caught.value).splitlines()
    assert first.startswith(f"{config}, line {line}: not valid TOML: ")
    assert shown == f"  {line} | {text.splitlines()[line - 1]}"


def test_the_embedded_defaults_schedule_no_digest() -> None:
    loaded = load_settings(None, env={}, cwd=Path("/"))
    assert loaded.source.startswith("embedded defaults")
    assert loaded.settings.digest is None
