"""End to end: triage in Slack with the real slack-sdk WebClient against the fake Slack Web API.

Alerts are posted with their buttons; signed `block_actions` payloads are posted to
/slack/actions on a real local server (and one goes through the Socket Mode listener); the
ledger, the updated message, status, the digest and later deliveries show the effect. The
clock is injected: snoozes end when the test says so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.app import CheckReport
from bot.cli import app as cli
from bot.cli.check_summary import summary_lines
from bot.config import DigestSettings
from bot.digest.assemble import assemble_digest
from bot.digest.render import render_html, render_text
from bot.slack.socket_mode import command_listener
from bot.slack.status_card import status_blocks
from bot.status.terminal import status_text
from state.schema import DeliveryRow, TriageActionRow
from state.types import Alert, DeliveryState
from tests.bot.triage_world import ANA, TriageWorld, form, triage_world

BEA = ("U0BEA67890", "bea")


@pytest.fixture
def world(db_url: str) -> Iterator[TriageWorld]:
    with triage_world(db_url) as built:
        yield built


def ledger(world: TriageWorld) -> list[TriageActionRow]:
    with Session(world.store.engine) as session:
        return list(session.exec(select(TriageActionRow).order_by(col(TriageActionRow.id))).all())


def delivery_state(world: TriageWorld, alert: Alert) -> str:
    with Session(world.store.engine) as session:
        row = session.exec(
            select(DeliveryRow).where(
                DeliveryRow.alert_id == alert.id, DeliveryRow.destination == "slack"
            )
        ).one()
        return row.state


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> list[str]:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return [
        e["text"]["text"] if "text" in e else e["placeholder"]["text"]
        for e in actions[0]["elements"]
    ]


def test_an_alert_is_acknowledged_once_and_status_shows_it(world: TriageWorld) -> None:
    [alert] = world.poll(overall_status="COMPLETED")
    world.deliver()
    posted = world.message_of(alert)
    assert buttons(posted) == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 1 week",
        "Mute Status for this trial",
    ]
    status = world.store.status("ulefnersen", at=world.clock())
    assert [a.alert_id for a in status.triage.unacked_high] == [alert.id]

    world.clock.advance(minutes=14)
    payload = world.click_payload(alert, "Acknowledge")
    assert world.post(form(payload)).status_code == 200
    [update] = world.settled_updates()
    assert update["ts"] == posted["ts"] and update["channel"] == posted["channel"]
    assert "Acknowledged by <@U0ANA12345> at <!date^" in texts(world.message_of(alert))
    assert "Acknowledge" not in buttons(world.message_of(alert))
    [row] = ledger(world)
    assert (row.action, row.user_id, row.user_name, row.alert_id) == (
        "acknowledge",
        *ANA,
        alert.id,
    )

    # Slack redelivers the same click, and Bea clicks a stale copy of the button: nothing twice.
    assert world.post(form(payload)).status_code == 200
    assert world.click(alert, "Snooze 1 day", user=BEA).status_code == 200  # a real change
    payload["user"] |= {"id": BEA[0], "username": BEA[1]}
    payload["actions"][0]["action_ts"] = "1793520000.999999"
    assert world.post(form(payload)).status_code == 200
    assert len(world.settled_updates()) == 2  # the ack once, the snooze once
    assert [r.action for r in ledger(world)] == ["acknowledge", "snooze"]

    status = world.store.status("ulefnersen", at=world.clock())
    assert status.triage.unacked_high == ()
    text = status_text(world.app.topics[0], status, now=world.clock())
    assert "@ana acknowledged alert" in text
    assert "snoozed: NCT04768972 (ClinicalTrials.gov) until 2026-11-02 08:14 UTC, by @bea" in text
    assert "<@" not in text  # a mention only in the updated message


def test_a_snoozed_record_holds_normal_alerts_and_posts_high_ones_with_a_note(
    world: TriageWorld,
) -> None:
    [first] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    [queued] = world.poll(enrollment="130 (estimated)")  # stored before the snooze is clicked
    assert world.click(first, "Snooze 1 week").status_code == 200
    assert len(world.settled_updates()) == 1
    assert "Unsnooze" in buttons(world.message_of(first))
    assert "Snoozed until <!date^" in texts(world.message_of(first))

    reports = world.deliver()  # decided at delivery: the snooze applies to the queued alert
    assert delivery_state(world, queued) == DeliveryState.SNOOZED.value
    summary = summary_lines(CheckReport(deliveries=reports), width=None, any_source=True)
    assert "delivered to slack: 0; held by snooze or mute: 1 (see status)" in summary
    assert world.slack.posted_alert_ids() == [first.id]

    world.clock.advance(hours=1)
    [high] = world.poll(enrollment="130 (estimated)", overall_status="TERMINATED")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, high.id]
    assert "posted despite snooze by @ana (high severity)" in texts(world.message_of(high))
    assert "Unsnooze" in buttons(world.message_of(high))

    # The held alert is in status and in the digest (its channel), never posted late.
    status = world.store.status("ulefnersen", at=world.clock())
    assert [h[0] for h in status.triage.held] == [queued.id]
    digest = assemble_digest(
        world.store,
        date(2026, 11, 2),
        DigestSettings(time=time(8, 0), timezone="UTC"),
        ["ulefnersen"],
    )
    held = [i for i in digest.items if i.alert.id == queued.id]
    assert held and held[0].slack and "held by snooze" in held[0].slack
    assert "held by snooze" in render_text(digest)
    assert "snoozed: NCT04768972" in render_text(digest)
    assert f"1 high alert(s) not acknowledged: alert {high.id} " in render_text(digest)
    assert "held by snooze (until 2026-11-08 08:00 UTC, by @ana)" in render_html(digest)

    world.clock.advance(weeks=1)
    world.deliver()
    [later] = world.poll(enrollment="140 (estimated)")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, high.id, later.id]


def test_unsnooze_ends_the_snooze_at_once(world: TriageWorld) -> None:
    [first] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    world.click(first, "Snooze 1 day")
    world.settled_updates()
    world.click(first, "Unsnooze")
    world.settled_updates()
    assert "Snooze 1 day" in buttons(world.message_of(first))
    [after] = world.poll(enrollment="130 (estimated)")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, after.id]
    assert [r.action for r in ledger(world)] == ["snooze", "unsnooze"]


def test_a_muted_field_stops_posting_only_that_field(world: TriageWorld) -> None:
    [first] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    assert world.click(first, "Mute Enrollment").status_code == 200
    world.settled_updates()
    assert "Unmute Enrollment" in buttons(world.message_of(first))
    assert "Enrollment muted for this trial by <@U0ANA12345>" in texts(world.message_of(first))

    [only_muted] = world.poll(enrollment="130 (estimated)")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id]
    assert delivery_state(world, only_muted) == DeliveryState.MUTED.value
    digest = assemble_digest(
        world.store, date(2026, 11, 1), DigestSettings(time=time(23, 0), timezone="UTC")
    )
    [held] = [i for i in digest.items if i.alert.id == only_muted.id]
    assert held.slack == "held by mute (Enrollment muted by @ana), not posted to Slack"
    # The snapshot keeps the muted field's change.
    stored = world.store.snapshot("ulefnersen", "clinicaltrials")["NCT04768972"]
    assert stored.observation.fields["enrollment"] == "130 (estimated)"

    [mixed] = world.poll(
        enrollment="140 (estimated)", primary_completion_date="2027-03 (estimated)"
    )
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, mixed.id]
    body = texts(world.message_of(mixed))
    assert "Primary completion" in body
    assert "140" not in body and "130" not in body
    assert "muted for this trial, not shown: Enrollment" in body

    world.click(first, "Unmute Enrollment")
    world.settled_updates()
    [after] = world.poll(enrollment="150 (estimated)")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, mixed.id, after.id]


class _SocketClient:
    def __init__(self, slack: Any) -> None:
        self.slack = slack
        self.acks: list[tuple[SocketModeResponse, int]] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.acks.append((response, len(self.slack.updates)))


def test_a_click_over_socket_mode_is_acked_then_the_message_updated(
    world: TriageWorld, caplog: pytest.LogCaptureFixture
) -> None:
    [alert] = world.poll(overall_status="COMPLETED")
    world.deliver()
    payload = world.click_payload(alert, "Acknowledge")
    listener = command_listener(lambda text: {}, world.app.clicks)
    client = _SocketClient(world.slack)
    request = SocketModeRequest(type="interactive", envelope_id="env-1", payload=payload)
    listener(client, request)
    [(ack, updates_at_ack)] = client.acks
    assert ack.envelope_id == "env-1" and updates_at_ack == 0  # acked before chat.update
    assert len(world.slack.updates) == 1
    assert [r.action for r in ledger(world)] == ["acknowledge"]
    listener(client, request)  # redelivered: acked again, nothing recorded or updated
    assert len(client.acks) == 2 and len(world.slack.updates) == 1
    forged = json.loads(json.dumps(payload))
    forged["container"]["message_ts"] = "1793520000.000999"  # not a message we posted
    with caplog.at_level(logging.WARNING, logger="bot.slack.socket_mode"):
        listener(client, SocketModeRequest(type="interactive", envelope_id="env-2", payload=forged))
    assert [r.getMessage() for r in caplog.records] == [
        f"slack action rejected over Socket Mode reason=alert {alert.id} was not posted by "
        "this bot in that message"
    ]
    assert len(client.acks) == 3 and len(ledger(world)) == 1


def test_snooze_ends_by_itself(world: TriageWorld) -> None:
    [first] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    world.click(first, "Snooze 1 day")
    world.settled_updates()
    world.clock.advance(days=1, seconds=1)
    [after] = world.poll(enrollment="130 (estimated)")
    world.deliver()
    assert world.slack.posted_alert_ids() == [first.id, after.id]
    assert world.store.status("ulefnersen", at=world.clock()).triage.snoozed == ()


def test_a_user_name_is_shown_inert_and_only_the_id_becomes_a_mention(world: TriageWorld) -> None:
    eve = ("U0EVE00001", "<!here> eve\n\x1b[31mred")
    [first] = world.poll(enrollment="120 (estimated)")
    world.deliver()
    assert world.click(first, "Snooze 1 day", user=eve).status_code == 200
    world.settled_updates()
    assert "by <@U0EVE00001>" in texts(world.message_of(first))
    [high] = world.poll(overall_status="TERMINATED")
    world.deliver()
    note = texts(world.message_of(high))
    assert "posted despite snooze by @&lt;!here&gt; eve" in note and "<!here>" not in note
    status = world.store.status("ulefnersen", at=world.clock())
    text = status_text(world.app.topics[0], status, now=world.clock())
    assert "by @<!here> eve" in text and "\x1b" not in text  # a terminal: no escapes
    card = json.dumps(status_blocks(world.app.topics[0], status, now=world.clock()))
    assert "*Triage*" in card and "&lt;!here&gt; eve" in card and "<!here>" not in card


def test_status_on_the_command_line_lists_what_waits_for_an_acknowledgement(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The CLI reads the real clock: the alerts are made now, so they are within its window.
    with triage_world(sqlite_url, start=datetime.now(UTC)) as world:
        [acked] = world.poll(overall_status="COMPLETED")
        [waiting] = world.poll(overall_status="TERMINATED")
        world.deliver()
        assert world.click(acked, "Acknowledge").status_code == 200
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{sqlite_url}"\n[[topics]]\nname = "ulefnersen"\n'
        'trials = ["NCT04768972"]\n'
    )
    unacked = CliRunner().invoke(
        cli, ["status", "NCT04768972", "--unacked", "--config", str(config)]
    )
    assert unacked.exit_code == 0, unacked.output
    lines = unacked.output.splitlines()
    assert lines[0] == "1 high alert not acknowledged:"
    assert lines[1].startswith(f"  alert {waiting.id} (") and "NCT04768972" in lines[1]
    full = CliRunner().invoke(cli, ["status", "ulefnersen", "--config", str(config)])
    assert "\nTriage\n  1 high alert(s) not acknowledged: alert" in full.output
    assert f"@ana acknowledged alert {acked.id}" in full.output
