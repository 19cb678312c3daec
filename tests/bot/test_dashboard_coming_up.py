"""The topic page's "Coming up": the team's guidance and the registry's dates within the next
90 days, and nothing beyond (bot/calendar/coming_up.py, wired by bot/dashboard/serve.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.config.milestones import Milestone
from bot.dashboard.serve import Dashboard
from state.store import Store
from tests.bot.test_dashboard import TOPIC, seed
from tests.factories import T0, Clock

NOW = T0 + timedelta(days=4)


def test_the_topic_page_lists_milestones_of_the_next_90_days_only(db_url: str) -> None:
    soon = Milestone(name="FUSION topline", date=NOW.date() + timedelta(days=30),
                     source="https://ir.example.com/fusion")  # fmt: skip
    later = Milestone(name="Filing", date=NOW.date() + timedelta(days=120),
                      source="https://ir.example.com/filing")  # fmt: skip
    store = Store.open(db_url)
    try:
        seed(store)
        dashboard = Dashboard(store, [TOPIC], Clock(NOW), host="::1", token=None,
                              guidance={TOPIC.name: (soon, later)})  # fmt: skip
        page = TestClient(Starlette(routes=dashboard.routes())).get("/topics/ION363").text
    finally:
        store.close()
    section = re.search(r"<h2>Coming up</h2>(.*?)</table>", page)
    assert section is not None and page.count("<h2>Coming up</h2>") == 1
    assert "FUSION topline" in section.group(1)
    assert (NOW.date() + timedelta(days=30)).isoformat() in section.group(1)
    assert "Filing" not in page  # 120 days ahead
    assert "<a href='https://ir.example.com/fusion'>" in section.group(1)


def test_report_html_lists_the_teams_guidance_too(tmp_path: Path) -> None:
    from datetime import date

    from typer.testing import CliRunner

    from bot.cli import app

    soon = (date.today() + timedelta(days=30)).isoformat()
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/tw.db"\n'
        '[[topics]]\nname = "ulefnersen"\n'
        f'[[topics.milestones]]\nname = "FUSION topline"\ndate = "{soon}"\n'
        'source = "https://ir.example.com/fusion"\n',
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", "ulefnersen", "--html", str(out), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    section = re.search(r"<h2>Coming up</h2>(.*?)</table>", out.read_text(encoding="utf-8"))
    assert section is not None and "FUSION topline" in section.group(1)
