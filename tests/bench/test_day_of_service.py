"""bench/day_of_service.py's pure parts: a day scaled back, the loopback config, the table."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bench.day_of_service import (
    DEFAULTS,
    Window,
    cron_lines,
    day_config,
    per_day,
    source_intervals,
    table,
)


def test_a_window_is_multiplied_back_to_one_simulated_day() -> None:
    # 180 s of wall time at 480x is exactly one day: the count is the day's.
    assert per_day(1000, wall=180.0, scale=480) == 1000
    # Half that window saw half a day: twice the count per day.
    assert per_day(1000, wall=90.0, scale=480) == 2000


def test_the_defaults_run_on_loopback_with_intervals_and_pacing_divided() -> None:
    text = day_config(
        DEFAULTS.read_text(encoding="utf-8"),
        web_port=9999, scale=480, topics=20, db=Path("/tmp/x.db"), server_port=8181,
    )  # fmt: skip
    config = tomllib.loads(text)
    assert len(config["topics"]) == 20 and config["topics"][0]["name"] == "ulefnersen"
    assert "https://" not in text
    assert config["sources"]["google_news"]["base_url"].startswith("http://127.0.0.")
    assert config["sources"]["clinicaltrials"]["interval"] == 7.5  # 1 h / 480
    assert config["sources"]["feeds"][0]["interval"] == 1.875  # 15 min / 480
    assert config["http"]["min_interval"] == round(1 / 480, 4)
    assert config["server"]["port"] == 8181
    # Every source keeps its simulated interval, and distinct real hosts stay distinct.
    intervals = source_intervals(text, 480)
    assert intervals[config["sources"]["openfda"]["base_url"]] == 6 * 3600
    assert config["sources"]["openfda"]["base_url"] != config["sources"]["pubmed"]["base_url"]


def test_urlwatch_gets_one_cron_line_per_interval_by_longest_source_prefix() -> None:
    intervals = {"http://h:1/en": 1800.0, "http://h:1/en/report.json": 21600.0}
    urls = ["http://h:1/en/news.xml", "http://h:1/en/report.json", "http://other/x"]
    assert cron_lines(urls, intervals) == {
        1800.0: ["http://h:1/en/news.xml"],
        21600.0: ["http://h:1/en/report.json"],
    }


def test_the_table_states_per_day_figures() -> None:
    window = Window(
        "trialwatch run", wall=90.0, cpu=3.0, peak_rss_mb=101.4, db_growth=500_000,
        requests=1500, not_modified=700, bytes_out=2_000_000, polls=1200, polls_due=21_000,
    )  # fmt: skip
    header, rule, row = table([window], scale=480)
    assert header.count("|") == rule.count("|") == row.count("|")
    # Half a day measured: everything doubles; RSS is a peak, never scaled.
    assert row == (
        "| trialwatch run | 6 s | 101 MB | 1.00 MB | 3,000 | 1,400 | 4.0 MB | 2,400 (21,000) |"
    )


def test_a_scale_that_would_poll_faster_than_once_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="under 1 s"):
        day_config(
            DEFAULTS.read_text(encoding="utf-8"),
            web_port=9999, scale=1000, topics=1, db=Path("/tmp/x.db"), server_port=8181,
        )  # fmt: skip
