"""The triage part of an alert's message: which buttons, what they carry, how a click reads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.delivery.destination import render_message
from bot.slack.delivery.limits import MAX_BLOCKS, fit_blocks
from bot.slack.triage.buttons import MessageState, triage_blocks
from bot.slack.triage.clicks import BadClick, parse_click
from bot.status.triage_lines import unacked_lines
from state.triage_types import Acknowledgement, Mute, UnackedAlert
from state.types import Alert, Change, ChangeKind, FieldChange, Severity
from tests.bot.triage_world import block_actions
from tests.factories import T0

FIELDS = {
    "overall_status": "Status",
    "enrollment": "Enrollment",
    "primary_completion_date": "Primary completion",
    "completion_date": "Completion",
    "sites": "Sites",
}


def alert(
    fields: tuple[str, ...] = ("enrollment",),
    *,
    kind: ChangeKind = ChangeKind.UPDATED,
    source: str = "clinicaltrials",
    title: str = "FUSION <!channel> *now*",
) -> Alert:
    changes = tuple(
        FieldChange(field=f, label=FIELDS[f], before="a", after="b", text=f"{FIELDS[f]}: a → b")
        for f in fields
    )
    change = Change(
        kind=kind,
        topic="ulefnersen",
        source=source,
        key="NCT04768972",
        title=title,
        url="https://clinicaltrials.gov/study/NCT04768972",
        severity=Severity.NORMAL,
        field_changes=changes,
    )
    return Alert(id=7, created_at=T0, change=change)


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return list(actions["elements"])


def labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [(e.get("text") or e["placeholder"])["text"] for e in elements(blocks)]


def test_a_trial_change_gets_acknowledge_snooze_and_a_mute_button_per_field() -> None:
    blocks = triage_blocks(alert(("overall_status", "enrollment")), MessageState())
    assert [b["type"] for b in blocks] == ["actions"]  # no "who did what" before a click
    assert labels(blocks) == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 1 week",
        "Mute Status for this trial",
        "Mute Enrollment for this trial",
    ]
    ids = [e["action_id"] for e in elements(blocks)]
    assert len(set(ids)) == len(ids)  # Slack wants them unique within the block


def test_button_values_carry_our_alert_id_and_field_never_feed_text() -> None:
    for element in elements(triage_blocks(alert(("enrollment",)), MessageState())):
        value = json.loads(element["value"])
        assert value["alert"] == 7 and set(value) <= {"alert", "field"}
        assert "FUSION" not in element["value"]


def test_more_than_three_fields_become_a_menu_whose_choice_reads_as_a_mute() -> None:
    many = alert(tuple(FIELDS))
    blocks = triage_blocks(many, MessageState())
    menu = elements(blocks)[-1]
    assert menu["type"] == "static_select" and len(menu["options"]) == 5
    assert labels(blocks)[:3] == ["Acknowledge", "Snooze 1 day", "Snooze 1 week"]
    chosen = menu["options"][2]["value"]
    click = parse_click(
        block_actions(
            menu["action_id"],
            chosen,
            channel="C00000001",
            ts="1.000001",
            action_ts="2.000001",
            option=True,
        )
    )
    assert (click.kind.value, click.alert_id, click.field) == ("mute", 7, "primary_completion_date")


@pytest.mark.parametrize("kind", [ChangeKind.SOURCE_DOWN, ChangeKind.HELD])
def test_an_alert_about_no_record_can_only_be_acknowledged(kind: ChangeKind) -> None:
    assert labels(triage_blocks(alert((), kind=kind), MessageState())) == ["Acknowledge"]


def test_a_news_item_can_be_snoozed_but_has_no_field_to_mute() -> None:
    news = alert((), kind=ChangeKind.NEW, source="news")
    assert labels(triage_blocks(news, MessageState())) == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 1 week",
    ]


def test_after_clicks_the_update_says_who_and_offers_the_undo() -> None:
    state = MessageState(
        ack=Acknowledgement("U0ANA12345", "ana", T0),
        muted={
            "enrollment": Mute(
                "ulefnersen", "clinicaltrials", "NCT04768972", "enrollment", "W0BEA678", "bea", T0
            )
        },
        mentions=True,
    )
    blocks = triage_blocks(alert(("overall_status", "enrollment")), state)
    said = [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]
    assert said[0].startswith("✅ Acknowledged by <@U0ANA12345> at <!date^1793520000^{time}|")
    assert said[0].endswith("|2026-11-01 08:00 UTC>")
    assert said[1] == "🔇 Enrollment muted for this trial by <@W0BEA678>"
    assert labels(blocks) == [
        "Snooze 1 day",
        "Snooze 1 week",
        "Mute Status for this trial",
        "Unmute Enrollment",
    ]


def test_the_buttons_survive_a_message_at_slacks_block_limit() -> None:
    long = alert(("enrollment",))
    footer = triage_blocks(long, MessageState())
    content = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{i}"}} for i in range(70)]
    fitted = fit_blocks(content, footer=footer)
    assert len(fitted) == MAX_BLOCKS and fitted[-1]["type"] == "actions"
    assert "more block(s) not shown" in fitted[-2]["elements"][0]["text"]
    blocks, _ = render_message(long, footer)
    assert blocks[-1]["type"] == "actions"
    assert "&lt;!channel&gt;" in json.dumps(blocks)  # the title stays inert


def test_a_click_on_something_else_is_refused() -> None:
    payload = block_actions(
        "trialwatch_mute_1",
        json.dumps({"alert": 7}),
        channel="C00000001",
        ts="1.000001",
        action_ts="2.000001",
    )
    with pytest.raises(BadClick, match="names no field"):
        parse_click(payload)


def test_a_long_user_name_is_kept_short_and_a_grid_user_id_is_accepted() -> None:
    payload = block_actions(
        "trialwatch_ack",
        json.dumps({"alert": 7}),
        channel="G00000001",
        ts="1.000001",
        action_ts="2.000001",
        user=("W0GRID0001", "x" * 500),
    )
    click = parse_click(payload)
    assert click.user_id == "W0GRID0001" and len(click.user_name) == 80


def test_unacknowledged_lines_count_and_name_each_alert() -> None:
    alerts = [
        UnackedAlert(3, T0, "clinicaltrials", "NCT04768972", "FUSION"),
        UnackedAlert(5, T0 + timedelta(hours=1), "clinicaltrials", "NCT02623699", "VALOR"),
    ]
    assert unacked_lines(alerts) == [
        "2 high alerts not acknowledged:",
        "  alert 3 (2026-11-01 08:00 UTC, NCT04768972): FUSION",
        "  alert 5 (2026-11-01 09:00 UTC, NCT02623699): VALOR",
    ]
    assert unacked_lines([]) == ["No high alert waits for an acknowledgement."]
