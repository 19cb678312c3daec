"""What `status` (terminal and Slack) says about one trial: sites, last known status, staleness."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.status_card import status_blocks
from bot.status.terminal import status_text
from state.types import StoredObservation, TopicStatus
from tests.factories import T0, trial
from watchers.model import Topic

TOPIC = Topic("ulefnersen", trials=("NCT04768972",))
SITES = (
    "Columbia University | New York | New York | United States | RECRUITING",
    "Stanford | Palo Alto | California | United States | NOT_YET_RECRUITING",
)


def card(**fields: object) -> TopicStatus:
    stored = StoredObservation(trial(**fields), first_seen=T0, last_seen=T0, last_changed=T0)
    return TopicStatus(topic="ulefnersen", trials=(stored,), recent_alerts=(), health=())


def test_unknown_status_shows_the_last_known_status_in_terminal_and_slack() -> None:
    status = card(overall_status="UNKNOWN", last_known_status="RECRUITING")
    assert "Status: Unknown (last known: Recruiting)" in status_text(TOPIC, status, now=T0)
    assert "Unknown (last known: Recruiting)" in str(status_blocks(TOPIC, status, now=T0))


def test_a_record_not_verified_for_over_a_year_is_flagged() -> None:
    status = card(status_verified="2025-08")
    fresh = status_text(TOPIC, status, now=T0)  # 2026-11: 15 months
    assert "Status verified: 2025-08: NOT VERIFIED for 15 months" in fresh
    recent = status_text(TOPIC, card(status_verified="2026-01"), now=T0)
    assert "Status verified: 2026-01  (" in recent
    assert "NOT VERIFIED" not in recent
    assert "NOT VERIFIED" in str(status_blocks(TOPIC, status, now=T0 + timedelta(days=1)))


def test_sites_show_how_many_recruit_and_which() -> None:
    text = status_text(TOPIC, card(sites=SITES), now=T0)
    assert "Sites: 2 sites, 1 recruiting: Columbia University (New York, United States)" in text
