"""The topic page's "Coming up": the team's guidance and the registry's dates within the next
90 days, and nothing beyond (bot/calendar/coming_up.py, wired by bot/dashboard/serve.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.calendar.milestones import Milestone
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
