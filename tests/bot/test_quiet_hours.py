"""Quiet hours as configured and as a window of local time: midnight, DST days, boundaries.

Start inclusive, end exclusive, read on the local wall clock of the configured IANA zone at
each instant (Europe/Zurich: UTC+1 in winter, UTC+2 in summer; in 2026 the clocks go forward
on 29 March at 02:00 and back on 25 October at 03:00).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import quiet_hours
from bot.cli import app
from bot.config import ConfigError, load_settings
from bot.destinations.quiet import QuietHours

NIGHT = QuietHours.parse("20:00-07:00", "Europe/Zurich")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at_utc", "quiet"),
    [
        ("2026-11-02T18:59:59", False),  # 19:59:59 in Zurich (winter, UTC+1)
        ("2026-11-02T19:00:00", True),  # 20:00: the start is quiet
        ("2026-11-02T22:00:00", True),  # 23:00
        ("2026-11-02T23:30:00", True),  # 00:30, past midnight
        ("2026-11-03T05:59:59", True),  # 06:59:59
        ("2026-11-03T06:00:00", False),  # 07:00: the end is not
        ("2026-11-03T11:00:00", False),  # noon
    ],
)
def test_a_window_spanning_midnight(at_utc: str, quiet: bool) -> None:
    assert NIGHT.active(utc(at_utc)) is quiet


@pytest.mark.parametrize(
    ("at_utc", "quiet"),
    [
        ("2026-07-01T09:59:00", False),  # 11:59 in Zurich (summer, UTC+2)
        ("2026-07-01T10:00:00", True),
        ("2026-07-01T11:59:00", True),
        ("2026-07-01T12:00:00", False),
        ("2026-07-01T22:00:00", False),  # midnight is outside a same-day window
    ],
)
def test_a_window_within_one_day(at_utc: str, quiet: bool) -> None:
    lunch = QuietHours.parse("12:00-14:00", "Europe/Zurich")
    assert lunch.active(utc(at_utc)) is quiet


def test_the_end_follows_the_wall_clock_on_the_spring_forward_day() -> None:
    # 05:30 UTC is 06:30 the day before (still quiet) and 07:30 on 29 March (over).
    assert NIGHT.active(utc("2026-03-28T05:30:00"))
    assert not NIGHT.active(utc("2026-03-29T05:30:00"))
    assert NIGHT.active(utc("2026-03-29T04:59:00"))  # 06:59 summer time
    # The start, the evening of the change, is 20:00 summer time: 18:00 UTC.
    assert NIGHT.active(utc("2026-03-29T18:00:00"))
    assert not NIGHT.active(utc("2026-03-29T17:59:00"))


def test_an_end_inside_the_skipped_hour_takes_effect_when_the_clock_jumps_past_it() -> None:
    window = QuietHours.parse("01:00-02:30", "Europe/Zurich")
    assert window.active(utc("2026-03-29T00:59:00"))  # 01:59 winter time
    assert not window.active(utc("2026-03-29T01:00:00"))  # 03:00 summer time


def test_the_end_follows_the_wall_clock_on_the_fall_back_day() -> None:
    # 05:30 UTC is 07:30 summer time on 24 October (over), 06:30 winter time on the 25th.
    assert not NIGHT.active(utc("2026-10-24T05:30:00"))
    assert NIGHT.active(utc("2026-10-25T05:30:00"))
    assert not NIGHT.active(utc("2026-10-25T06:00:00"))  # 07:00 winter time


def test_a_time_of_day_that_occurs_twice_is_quiet_both_times() -> None:
    window = QuietHours.parse("20:00-02:30", "Europe/Zurich")
    assert window.active(utc("2026-10-25T00:15:00"))  # 02:15 summer time
    assert not window.active(utc("2026-10-25T00:45:00"))  # 02:45 summer time
    assert window.active(utc("2026-10-25T01:15:00"))  # 02:15 again, winter time
    assert not window.active(utc("2026-10-25T01:45:00"))  # 02:45 winter time


def test_the_zone_decides_the_hours() -> None:
    at = utc("2026-11-02T19:30:00")  # 20:30 in Zurich, 14:30 in New York
    assert NIGHT.active(at)
    assert not QuietHours.parse("20:00-07:00", "America/New_York").active(at)
    assert QuietHours.parse("20:00-07:00", "UTC").active(utc("2026-11-02T20:00:00"))


def test_a_naive_time_is_refused_rather_than_read_as_the_machines_zone() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        NIGHT.active(datetime(2026, 11, 2, 23, 0))


def test_how_the_window_reads() -> None:
    assert NIGHT.until == "07:00 Europe/Zurich"
    assert str(QuietHours.parse(" 8:05 - 9:30 ", "UTC")) == "08:05-09:30 UTC"


BASE = '[storage]\nurl = "sqlite:///{db}"\n\n[[topics]]\nname = "ulefnersen"\n\n'


def load(tmp_path: Path, text: str) -> str:
    """Load a config with `text` appended; the ConfigError's message ('' when it loads)."""
    path = tmp_path / "trialwatch.toml"
    path.write_text(BASE.format(db=tmp_path / "tw.db") + text)
    try:
        load_settings(str(path), env={}, cwd=tmp_path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path))
        return str(exc)
    return ""


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ('quiet_hours = "20-07"', 'expected a window of local time like "20:00-07:00"'),
        ('quiet_hours = "20:00 to 07:00"', "HH:MM-HH:MM"),
        ('quiet_hours = "25:00-07:00"', "the start 25:00 is not a time of day"),
        ('quiet_hours = "20:00-07:60"', "the end 07:60 is not a time of day"),
        ('quiet_hours = "24:00-07:00"', "midnight is 00:00"),
        ('quiet_hours = "07:00-07:00"', "start and end are the same time"),
        ("quiet_hours = 2000", "expected a string in quotes"),
        ('quiet_hours = "20:00-07:00"\ntimezone = "Europe/Zurch"', "not an IANA time zone"),
        ('quiet_hours = "20:00-07:00"', "timezone: is required with quiet_hours"),
        ('quiet_hour = "20:00-07:00"', "unknown key (allowed here: "),
    ],
)
def test_bad_quiet_hours_name_the_file_the_key_and_what_is_expected(
    tmp_path: Path, keys: str, says: str
) -> None:
    for table, key in (
        ("[slack]\n", "slack"),
        ('[[notify]]\nname = "hook"\nurl = "json://127.0.0.1:9/x"\n', 'notify[1] "hook"'),
    ):
        message = load(tmp_path, table + keys + "\n")
        assert says in message, message
        assert f"  {key}" in message
        assert "quiet_hour = " not in keys or "quiet_hours, timezone" in message


def test_a_bad_window_stops_every_command_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "trialwatch.toml"
    path.write_text(BASE.format(db=tmp_path / "tw.db") + '[slack]\nquiet_hours = "22:00"\n')
    result = CliRunner().invoke(app, ["status", "ulefnersen", "--config", str(path)])
    assert result.exit_code == 2
    assert "slack.quiet_hours: expected a window of local time" in result.output


def test_each_destination_has_its_own_quiet_hours_and_none_by_default(tmp_path: Path) -> None:
    assert load_settings(None, env={}, cwd=tmp_path).settings.slack.quiet is None
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        BASE.format(db=tmp_path / "tw.db")
        + '[slack]\nquiet_hours = "20:00-07:00"\ntimezone = "Europe/Zurich"\n\n'
        + '[[notify]]\nname = "pager"\nurl = "json://127.0.0.1:9/p"\n\n'
        + '[[notify]]\nname = "night-desk"\nurl = "json://127.0.0.1:9/n"\n'
        + 'quiet_hours = "09:00-17:00"\ntimezone = "America/New_York"\n'
    )
    settings = load_settings(str(path), env={}, cwd=tmp_path).settings
    found = {name: str(window) for name, window in quiet_hours(settings).items()}
    assert found == {
        "slack": "20:00-07:00 Europe/Zurich",
        "night-desk": "09:00-17:00 America/New_York",
    }
    # A timezone alone (quiet hours commented out for a while) is allowed and does nothing.
    path.write_text(BASE.format(db=tmp_path / "tw.db") + '[slack]\ntimezone = "Europe/Zurich"\n')
    assert quiet_hours(load_settings(str(path), env={}, cwd=tmp_path).settings) == {}


def test_the_commented_slack_example_in_the_example_config_loads(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[2] / "trialwatch.example.toml").read_text()
    uncommented = example.replace("# quiet_hours = ", "quiet_hours = ", 1).replace(
        "# timezone = ", "timezone = ", 1
    )
    path = tmp_path / "example.toml"
    path.write_text(uncommented)
    slack = load_settings(str(path), env={}, cwd=tmp_path).settings.slack
    assert str(slack.quiet) == "20:00-07:00 Europe/Zurich"
