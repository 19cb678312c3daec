"""An offline `check` with two topics fits an 80x24 terminal and says each failure once."""

from __future__ import annotations

from pathlib import Path

import httpx
import respx
from typer.testing import CliRunner

from bot.app import CheckReport
from bot.cli import app
from bot.cli.check_summary import Progress, summary_lines
from bot.polling.pipeline import PollSummary
from state.types import PollOutcome

FEEDS = ["FDA press releases", "FDA what's new in drugs", "EMA news", "EMA new human medicines"]


def offline_config(tmp_path: Path) -> str:
    feeds = "".join(
        f'[[sources.feeds]]\nname = "{name}"\n'
        f'url = "https://feeds.example.org/{i}/a/long/path/to/the/rss/feed.xml"\n'
        for i, name in enumerate(FEEDS)
    )
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n'
        '[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\n'
        '[[topics]]\nname = "tofersen"\naliases = ["BIIB067"]\n'
        '[sources.clinicaltrials]\nbase_url = "https://clinicaltrials.gov/api/v2"\n'
        '[sources.pubmed]\nbase_url = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"\n'
        '[sources.google_news]\nbase_url = "https://news.google.com/rss/search"\n'
        '[sources.sec_edgar]\nbase_url = "https://efts.sec.gov/LATEST"\n'
        'contact = "Pharma Watch ops@pharma.test"\n'
        f"{feeds}[http]\nmin_interval = 0.001\nmax_retries = 1\nbackoff = 0.01\n"
    )
    return str(path)


def test_an_offline_check_of_two_topics_fits_80x24_with_each_failure_once(
    tmp_path: Path,
) -> None:
    with respx.mock() as router:
        router.route().mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
        result = CliRunner().invoke(
            app,
            ["check", "--config", offline_config(tmp_path)],
            env={"SLACK_BOT_TOKEN": "", "COLUMNS": "80", "LINES": "24"},
        )
    assert result.exit_code == 0
    screen = (result.stderr + result.stdout).splitlines()
    assert len(screen) <= 24 and all(len(line) <= 80 for line in screen)
    failed = [line for line in screen if "FAILED" in line]
    assert len(failed) == 8  # 8 sources x 2 topics: one line per source
    assert sum("ClinicalTrials.gov" in line for line in failed) == 1
    # The end of a long reason survives the cut as well as its start.
    assert all(line.endswith("connection refused") for line in failed)
    assert sum("behind a proxy?" in line for line in screen) == 1
    assert "tofersen" not in "\n".join(failed)  # the same cause for both topics: said once


def test_verbose_shows_every_topic_and_whole_reasons(tmp_path: Path) -> None:
    with respx.mock() as router:
        router.route().mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
        result = CliRunner().invoke(
            app,
            ["check", "-v", "--config", offline_config(tmp_path)],
            env={"SLACK_BOT_TOKEN": "", "COLUMNS": "80"},
        )
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 16 and sum("(tofersen)" in line for line in failed) == 8
    assert any("SEC EDGAR" in line and "(tofersen)" in line for line in failed)


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    written: list[str] = []
    progress = Progress(written.append, 3, verbose=False, terminal=True, with_topic=True)
    for _ in range(3):
        progress(PollSummary("pubmed", "ulefnersen", PollOutcome.FAILED, 0, 0.1, "refused"))
    progress.close()
    assert "\n" not in "".join(written) and "3/3 polls done, 3 failed" in written[-2]


def test_the_summary_says_why_polls_were_skipped() -> None:
    held = "lease held by host-2:77 until 10:15"
    polls = [
        PollSummary("pubmed", "ulefnersen", PollOutcome.SKIPPED, 0, 0.0, reason=held),
        PollSummary("pubmed", "tofersen", PollOutcome.SKIPPED, 0, 0.0, reason=held),
        PollSummary("ctgov", "ulefnersen", PollOutcome.OK, 0, 0.1),
    ]
    lines = summary_lines(CheckReport(polls, []), width=80, any_source=True)
    assert f"sources: 1 ok, 0 failed, 2 skipped ({held}); new alerts: 0" in lines
