"""`/status ...` text in, acknowledgement payload out: from stored state, never from a source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx

from bot.app import App, open_app
from bot.slack.commands import StatusCommand, StatusRequest, parse_status_text
from tests.bot.service_helpers import loaded_config, seed_ulefnersen
from tests.factories import T0, Clock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", StatusRequest("", False)),
        ("   ", StatusRequest("", False)),
        ("ulefnersen", StatusRequest("ulefnersen", False)),
        ("ulefnersen public", StatusRequest("ulefnersen", True)),
        ("  ION363   PUBLIC ", StatusRequest("ION363", True)),
        ("public", StatusRequest("", True)),
        ("ION 363", StatusRequest("ION 363", False)),
    ],
    ids=["empty", "blank", "name", "public", "case-and-spaces", "only-public", "two-words"],
)
def test_parse_status_text(text: str, expected: StatusRequest) -> None:
    assert parse_status_text(text) == expected


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    # Any HTTP request would fail: /status must answer from stored state only.
    with (
        respx.mock(assert_all_mocked=True) as router,
        open_app(loaded_config(db_url), clock=Clock(T0)) as application,
    ):
        seed_ulefnersen(application.store)
        yield application
        assert router.calls.call_count == 0


def rendered(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize("name", ["ulefnersen", "JACIFUSEN", "ION-363", "nct04768972"])
def test_a_topic_alias_or_trial_id_gives_the_card(app: App, name: str) -> None:
    payload = StatusCommand.for_app(app).answer(name)
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0]["text"]["text"] == "ulefnersen status"
    card = rendered(payload)
    assert "Status: *Completed*  _changed 2026-11-02 08:00 UTC_" in card
    assert "🔴 *high* · changed · ClinicalTrials.gov" in card
    assert "ClinicalTrials.gov: ok, last success 2026-11-02 08:00 UTC" in card
    assert payload["text"].startswith("ulefnersen status — NCT04768972: Completed")


def test_public_posts_in_channel(app: App) -> None:
    payload = StatusCommand.for_app(app).answer("ulefnersen public")
    assert payload["response_type"] == "in_channel"
    assert payload["blocks"][0]["text"]["text"] == "ulefnersen status"


def test_a_topic_without_state_yet_says_so(app: App) -> None:
    card = rendered(StatusCommand.for_app(app).answer("Qalsody"))
    assert "tofersen status" in card
    assert "None stored yet" in card and "Not checked yet." in card


def test_empty_text_lists_the_topics(app: App) -> None:
    payload = StatusCommand.for_app(app).answer("")
    assert payload["response_type"] == "ephemeral"
    text = rendered(payload)
    assert "*ulefnersen* (also jacifusen, ION363, ION-363, NCT04768972)" in text
    assert "*tofersen* (also Qalsody, BIIB067, NCT02623699)" in text
    assert "Usage: `/status NAME`" in text


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [("ulefnersn", "ulefnersen"), ("jacifusn", "ulefnersen"), ("tofersne", "tofersen")],
)
def test_unknown_name_suggests_the_closest_topic(app: App, typed: str, suggestion: str) -> None:
    payload = StatusCommand.for_app(app).answer(f"{typed} public")
    assert payload["response_type"] == "ephemeral"  # a typo is not posted to the channel
    assert payload["text"] == f"I don't watch “{typed}”. Did you mean *{suggestion}*?"
    assert "*Known topics*" in rendered(payload)


def test_unknown_name_far_from_everything_lists_topics_without_a_guess(app: App) -> None:
    payload = StatusCommand.for_app(app).answer("<!channel> zzz")
    assert payload["text"] == "I don't watch “&lt;!channel&gt; zzz”."
    assert "<!channel>" not in rendered(payload)
    assert "*ulefnersen*" in rendered(payload)
