"""Configuration: the public contract loads as written; bad input names file, key, expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import topics_from_settings
from bot.config import ConfigError, load_settings, parse_duration

ROOT = Path(__file__).resolve().parents[2]

# The contract from the core issue, verbatim: later issues and users rely on these keys.
CONTRACT = """
[storage]
url = "sqlite:///trialwatch.db"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363"]
trials = ["NCT04768972"]
conditions = ["FUS-ALS"]
slack_channel = "#fus-als-watch"

[sources.clinicaltrials]
base_url = "https://clinicaltrials.gov/api/v2"

[sources.openfda]
base_url = "https://api.fda.gov"

[sources.google_news]
base_url = "https://news.google.com/rss/search"

[sources.pubmed]
base_url = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"

[[sources.feeds]]
name = "FDA press releases"
url = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml"
authority = "FDA"

[[sources.feeds]]
name = "EMA news"
url = "https://www.ema.europa.eu/en/news.xml"
authority = "EMA"

[slack]
api_url = "https://slack.com/api/"
channel = "#trial-alerts"

[digest]
to = ["clinical-team@example.org"]
sender = "trialwatch@example.org"
smtp_host = "localhost"
smtp_port = 25
time = "08:00"
timezone = "Europe/Zurich"

[server]
host = "127.0.0.1"
port = 8080

[health]
failures_before_alert = 3
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tw.toml"
    path.write_text(text)
    return str(path)


def test_contract_loads_as_written(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, CONTRACT), env={}, cwd=tmp_path)
    s = loaded.settings
    [topic] = s.topics
    assert topic.aliases == ("jacifusen", "ION363", "ION-363")
    assert topic.trials == ("NCT04768972",)
    assert s.sources.clinicaltrials is not None
    assert s.sources.clinicaltrials.base_url == "https://clinicaltrials.gov/api/v2"
    assert [f.authority for f in s.sources.feeds] == ["FDA", "EMA"]
    assert s.digest is not None and s.digest.time.hour == 8 and s.digest.timezone == "Europe/Zurich"
    assert s.health.failures_before_alert == 3
    assert s.sources.ema_medicines is None  # absent section: source is off


def test_embedded_defaults_used_when_no_file(tmp_path: Path) -> None:
    loaded = load_settings(None, env={}, cwd=tmp_path)
    assert "embedded" in loaded.source
    assert loaded.settings.topics[0].name == "ulefnersen"
    assert loaded.settings.sources.clinicaltrials is not None


def test_resolution_order_cli_then_env_then_cwd(tmp_path: Path) -> None:
    (tmp_path / "trialwatch.toml").write_text('[[topics]]\nname = "cwd"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[[topics]]\nname = "env"\n')
    cli_file = tmp_path / "cli.toml"
    cli_file.write_text('[[topics]]\nname = "cli"\n')
    env = {"TRIALWATCH_CONFIG": str(env_file)}
    assert load_settings(str(cli_file), env=env, cwd=tmp_path).settings.topics[0].name == "cli"
    assert load_settings(None, env=env, cwd=tmp_path).settings.topics[0].name == "env"
    assert load_settings(None, env={}, cwd=tmp_path).settings.topics[0].name == "cwd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '[[topics]]\nname = "x"\n[sources.clinicaltrials]\nintervl = 5\n',
            ["sources.clinicaltrials.intervl: unknown key", "interval", "base_url"],
            id="typo-in-source-key",
        ),
        pytest.param(
            '[[topics]]\nname = "x"\ntrials = ["NCT123"]\n',
            ['topics[1] "x".trials', "not an NCT id"],
            id="bad-nct-id",
        ),
        pytest.param(
            '[[topics]]\nname = "x"\n[sources.clinicaltrials]\nbase_url = "ftp://mirror"\n',
            ["sources.clinicaltrials.base_url", "http:// or https://"],
            id="non-http-url",
        ),
        pytest.param(
            '[[topics]]\nname = "x"\n[digest]\ntimezone = "Mars/Olympus"\n',
            ["digest.timezone", "IANA time zone"],
            id="bad-timezone",
        ),
        pytest.param(
            '[[topics]]\nname = "x"\n[sources.openfda]\ninterval = "often"\n',
            ["sources.openfda.interval", "duration"],
            id="bad-interval",
        ),
        pytest.param("[storage]\n", ["topics: required key is missing"], id="no-topics"),
        pytest.param(
            '[[topics]]\nname = "x"\nnope = 1\n',
            ['topics[1] "x".nope: unknown key'],
            id="unknown-topic-key",
        ),
        pytest.param("[[topics]\n", ["not valid TOML"], id="broken-toml"),
        pytest.param(
            '[[topics]]\nname = "a"\naliases=["z"]\n[[topics]]\nname = "b"\naliases=["Z"]\n',
            ["'Z' is used by topics 'a' and 'b'"],
            id="alias-used-twice",
        ),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, cwd=tmp_path)
    message = str(info.value)
    assert message.startswith(path)
    for part in expected:
        assert part in message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings(str(tmp_path / "nope.toml"), env={}, cwd=tmp_path)


def test_secrets_come_from_env_only_and_stay_out_of_repr(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-very-secret", "NCBI_API_KEY": ""}
    loaded = load_settings(write(tmp_path, CONTRACT), env=env, cwd=tmp_path)
    assert loaded.secrets.slack_bot_token is not None
    assert loaded.secrets.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    assert loaded.secrets.ncbi_api_key is None
    assert "xoxb-very-secret" not in repr(loaded)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(900, 900.0), ("15m", 900.0), ("1h", 3600.0), ("2d", 172800.0), ("90", 90.0)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_eu_trial_numbers_reach_the_watchers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[topics]]\nname = "x"\neu_trials = [" 2020-005522-28", "2025-523333-26-00"]\n',
    )
    settings = load_settings(path, env={}, cwd=tmp_path).settings
    [topic] = topics_from_settings(settings)
    assert topic.eu_trials == ("2020-005522-28", "2025-523333-26-00")


@pytest.mark.parametrize("number", ["2020-5522-28", "NCT04768972", "2025-523333-26-0"])
def test_a_bad_eu_trial_number_names_the_key_and_both_forms(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, f'[[topics]]\nname = "x"\neu_trials = ["{number}"]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, cwd=tmp_path)
    assert 'topics[1] "x".eu_trials' in str(info.value)
    assert "EudraCT" in str(info.value) and "CTIS" in str(info.value)
