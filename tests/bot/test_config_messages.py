"""Config mistakes and hostile files through the real CLI: exit 2 and a message, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ConfigError, load_settings


def check(config: Path) -> tuple[int, str]:
    """`trialwatch check --config CONFIG`: its exit status and stderr."""
    result = CliRunner().invoke(app, ["check", "--config", str(config)], env={"COLUMNS": "80"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def config_file(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "trialwatch.toml"
    path.write_bytes(body)
    return path


TOPIC = b'[[topics]]\nname = "ulefnersen"\n'


@pytest.mark.parametrize(
    ("body", "said"),
    [
        pytest.param(
            TOPIC + b"aliases = " + b"[" * 5000 + b"]" * 5000 + b"\n", "line 3", id="array"
        ),
        pytest.param(
            TOPIC + b"\n[http]\nx = " + b"{a = " * 5000 + b"1" + b"}" * 5000 + b"\n",
            "line 5",
            id="inline-table",
        ),
    ],
)
def test_deep_nesting_is_a_message_naming_file_and_line(
    tmp_path: Path, body: bytes, said: str
) -> None:
    config = config_file(tmp_path, body)
    code, err = check(config)
    assert code == 2
    assert f"{config}, {said}: nested too deeply" in err
    assert "Traceback" not in err and "RecursionError" not in err


def test_bytes_that_are_not_utf8_are_a_message_naming_the_byte(tmp_path: Path) -> None:
    body = TOPIC + b'aliases = ["jacifusen", "caf\xe9"]\n'  # Latin-1, as an old editor saves it
    config = config_file(tmp_path, body)
    code, err = check(config)
    assert code == 2
    at = body.index(b"\xe9")
    assert f"{config}, line 3: not valid UTF-8 at byte {at} (0xe9)" in err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err


def errors_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config_file(tmp_path, text.encode())), env={}, cwd=tmp_path)
    return str(caught.value)


def test_a_bad_topic_is_named_and_counted_as_its_author_counts(tmp_path: Path) -> None:
    message = errors_of(
        tmp_path,
        '[[topics]]\nname = "ulefnersen"\n[[topics]]\nname = "tofersen"\ntrials = ["NCT1"]\n'
        '[[topics]]\naliases = ["x"]\n',
    )
    assert "topics[2] \"tofersen\".trials: 'NCT1' is not an NCT id" in message
    assert "topics[3].name: required key is missing" in message
    assert "topics.1" not in message and "topics.2" not in message


def test_other_arrays_of_tables_are_named_too(tmp_path: Path) -> None:
    message = errors_of(
        tmp_path,
        '[[topics]]\nname = "x"\n[[sources.feeds]]\nname = "FDA"\nurl = "ftp://fda"\n',
    )
    assert 'sources.feeds[1] "FDA".url: expected an http:// or https:// URL' in message


@pytest.mark.parametrize(
    "name",
    [
        "a/b",
        "x?y",
        "c#d",
        "50%",
        "back\\slash",
        "tab\there",
        "bidi\u202eevil",
        "",
        " pad",
        "..",
        ".",
    ],
)
def test_a_topic_name_that_breaks_its_link_is_refused_at_load(tmp_path: Path, name: str) -> None:
    escaped = name.replace("\\", "\\\\").replace("\t", "\\t").replace("\u202e", "\\u202e")
    config = config_file(
        tmp_path, f'[[topics]]\nname = "ok"\n[[topics]]\nname = "{escaped}"\n'.encode()
    )
    code, err = check(config)
    assert code == 2
    assert "topics[2]" in err and ".name: a topic name is part of its dashboard link" in err
    assert "letters, digits, spaces and punctuation other than / ? # % \\" in err
    assert "\t" not in err and "\u202e" not in err  # the name is shown escaped


def test_names_that_only_look_unusual_are_accepted(tmp_path: Path) -> None:
    text = '[[topics]]\nname = "Tofersen (BIIB067) & co. + é"\n[[topics]]\nname = "a.b"\n'
    loaded = load_settings(str(config_file(tmp_path, text.encode())), env={}, cwd=tmp_path)
    assert [t.name for t in loaded.settings.topics] == ["Tofersen (BIIB067) & co. + é", "a.b"]


def test_a_name_or_alias_of_two_topics_is_refused(tmp_path: Path) -> None:
    message = errors_of(
        tmp_path,
        '[[topics]]\nname = "Qalsody"\n[[topics]]\nname = "tofersen"\naliases=["qalsody"]\n',
    )
    assert "'qalsody' is used by topics 'Qalsody' and 'tofersen'" in message
