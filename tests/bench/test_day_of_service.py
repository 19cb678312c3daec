"""bench/day_of_service.py's pure parts: a day scaled back, the loopback config, the tables."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench.day_config import DEFAULTS, cron_lines, day_config, source_intervals
from bench.day_processes import started
from bench.day_report import Idle, Window, cell, cpu_per_day, load_table, per_day, table


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


def _window(tool: str = "trialwatch run", cpu: float = 3.0, **more: Any) -> Window:
    """90 s of wall, 3 CPU-s, 1,500 requests..., as one tool measured them."""
    return replace(
        Window(tool, 90.0, cpu, 101.4, 500_000, 1500, 700, 2_000_000, 1200, 21_000), **more
    )


def test_the_table_states_per_day_figures() -> None:
    header, rule, row = table([[_window()]], scale=480)
    assert header.count("|") == rule.count("|") == row.count("|")
    # Half a day measured: everything doubles; RSS is a peak, never scaled; one run, no range.
    assert row == (
        "| trialwatch run | 6.0 s | 6.0 s | none (cron) | 101 MB | 1.00 MB | 3,000 | 1,400 "
        "| 4.0 MB | 2,400 (21,000) |"
    )


def test_idle_cost_is_counted_for_a_real_day_and_only_polling_is_scaled() -> None:
    # One simulated day in 180 s of wall (480x) took 30 CPU-s; idling alone costs 0.01 CPU-s a
    # second: 864 s over a real day, and 1.8 s of the window was idling, not polling.
    window = _window(wall=180.0, cpu=30.0, idle=Idle(wall=60.0, cpu=0.6, requests=0))
    polling, idle = cpu_per_day(window, scale=480)
    assert idle == pytest.approx(864.0)
    assert polling == pytest.approx(28.2)
    # The old figure (the window scaled whole) was 30 s a day: idling 180 s, not 24 h.
    assert "| 892 s | 28 s | 864 s |" in table([[window]], scale=480)[2]


def test_polling_is_never_negative_when_the_idle_rate_exceeds_the_window() -> None:
    window = _window(wall=180.0, cpu=1.0, idle=Idle(wall=60.0, cpu=0.6, requests=0))
    assert cpu_per_day(window, scale=480) == (0.0, pytest.approx(864.0))


def test_each_cell_is_the_median_of_the_runs_with_their_range() -> None:
    assert cell([3.0, 1.0, 2.0], lambda v: f"{v:.0f} s") == "2 s [1-3 s]".replace(
        "1-3 s", "1 s-3 s"
    )
    assert cell([5.0], lambda v: f"{v:.0f}") == "5"


def test_three_alternating_runs_make_one_row_per_tool_in_run_order() -> None:
    runs = [
        [_window(cpu=cpu, requests=r), _window("urlwatch 2.29", cpu=9.0, requests=r + 10)]
        for cpu, r in ((3.0, 1500), (2.0, 1000), (4.0, 2000))
    ]
    rows = table(runs, scale=480)
    assert [row.split(" | ")[0] for row in rows[2:]] == ["| trialwatch run", "| urlwatch 2.29"]
    # CPU-s per day 4, 6, 8: median 6; requests per day 2,000, 3,000, 4,000: median 3,000.
    assert rows[2].startswith("| trialwatch run | 6.0 s [4.0 s-8.0 s] |")
    assert "| 3,000 [2,000-4,000] |" in rows[2]
    assert "| 3,020 [2,020-4,020] |" in rows[3]


def test_the_load_average_is_stated_at_the_start_and_end_of_each_run() -> None:
    loaded = _window(load=((1.25, 0.5, 0.25), (2.0, 1.0, 0.5)))
    rows = load_table([[loaded, _window("urlwatch 2.29")], [loaded, loaded]])
    assert rows[2] == "| 1 | trialwatch run | 1.2, 0.5, 0.2 | 2.0, 1.0, 0.5 |"
    assert [row.split(" | ")[0] for row in rows[2:]] == ["| 1", "| 1", "| 2", "| 2"]


def test_the_idle_phase_keeps_real_intervals_and_the_windows_pacing() -> None:
    text = day_config(
        DEFAULTS.read_text(encoding="utf-8"),
        web_port=9999, scale=1.0, topics=20, db=Path("/tmp/x.db"), server_port=8181, pace=480,
    )  # fmt: skip
    config = tomllib.loads(text)
    assert config["sources"]["feeds"][0]["interval"] == 900  # 15 min, as configured
    assert config["http"]["min_interval"] == round(1 / 480, 4)


def test_a_child_is_stopped_when_the_benchmark_fails_around_it() -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(KeyboardInterrupt), started(command) as child:
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, which the benchmark turns into it)
    assert child.poll() is not None


def test_a_scale_that_would_poll_faster_than_once_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="under 1 s"):
        day_config(
            DEFAULTS.read_text(encoding="utf-8"),
            web_port=9999, scale=1000, topics=1, db=Path("/tmp/x.db"), server_port=8181,
        )  # fmt: skip
