"""Block Kit limits: the fake refuses what Slack refuses; what trialwatch posts always fits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.destinations.cut import cut_mrkdwn
from bot.destinations.flush import DeliveryLoop
from bot.destinations.render import slack_alert_blocks
from bot.slack.delivery.client import build_slack_client
from bot.slack.delivery.destination import SlackDestination
from bot.slack.delivery.limits import fit_blocks
from state.fields import describe_change
from state.poll.write import add_alert
from state.store import Store
from state.types import Alert, Change, ChangeKind, FieldChange, Severity
from tests.factories import T0, Clock
from tests.fakes.slack_api import FakeSlack, block_errors, fake_slack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
TOKEN = "xoxb-limits-not-a-real-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def post(fake: FakeSlack, blocks: list[dict[str, Any]]) -> Any:
    client = build_slack_client(TOKEN, fake.base_url, sleep=lambda _s: None)
    return client.chat_postMessage(channel="#fus-als-watch", text="fallback", blocks=blocks)


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for element in block.get("elements", []):
            assert len(element["text"]) <= 3000


@pytest.mark.parametrize(
    ("blocks", "example"),
    [
        ([section("x" * 3001)], "slack_chat_postMessage_invalid_blocks.json"),
        ([section("x")] * 51, "slack_chat_postMessage_too_many_blocks.json"),
    ],
    ids=["section-3001-chars", "51-blocks"],
)
def test_fake_slack_refuses_over_limit_payloads_like_slack(
    slack: FakeSlack, blocks: list[dict[str, Any]], example: str
) -> None:
    expected = json.loads((FIXTURES / example).read_text())
    with pytest.raises(SlackApiError) as caught:
        post(slack, blocks)
    answer = caught.value.response.data
    assert isinstance(answer, dict)
    assert answer["error"] == expected["error"] == "invalid_blocks"
    # Slack adds a generic "failed to match all allowed schemas"; the precise line is ours too.
    assert set(answer["errors"]) <= set(expected["errors"])
    assert answer["errors"] and slack.messages == []


def test_fake_slack_refuses_a_header_over_150_characters(slack: FakeSlack) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert block_errors([header]) == [
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]
    with pytest.raises(SlackApiError):
        post(slack, [header])


def huge_change(url: str) -> Change:
    many = tuple(
        FieldChange(f"f{i}", "Field", "a", "b", f"Field {i}: " + "x&<>" * 200) for i in range(300)
    )
    return Change(
        kind=ChangeKind.UPDATED,
        topic="ulefnersen" + " very long topic" * 40,
        source="clinicaltrials",
        key="NCT04768972" + "K" * 4000,
        title="FUSION & <b>friends</b> " * 800,
        url=url,
        severity=Severity.HIGH,
        matched_alias="ION363 " * 900,
        field_changes=many,
        detail="detail & more " * 2000,
        claim_label="unconfirmed " * 1000,
        also_reported_by=tuple(f"Outlet {i}" for i in range(2000)),
    )


def test_render_cuts_huge_content_within_limits_with_a_link() -> None:
    url = "https://clinicaltrials.gov/study/NCT04768972"
    change = huge_change(url)
    blocks = slack_alert_blocks(Alert(id=1, created_at=T0, change=change))
    body = [b for b in blocks if b["type"] == "section"]
    for block in body:
        assert len(block["text"]["text"]) <= 3000
    assert len(blocks) <= 50 and len(blocks[0]["text"]["text"]) <= 150
    assert body[-1]["text"]["text"].endswith(f"… more at <{url}|the record>")


@pytest.mark.parametrize(
    "url",
    ["https://clinicaltrials.gov/study/NCT04768972", "https://news.example/" + "a&b/" * 2000],
    ids=["ordinary-url", "5000-char-url"],
)
def test_huge_alerts_are_posted_cut_never_refused(
    slack: FakeSlack, sqlite_url: str, url: str
) -> None:
    store, clock = Store.open(sqlite_url), Clock()
    try:
        with Session(store.engine) as session:
            add_alert(session, huge_change(url), clock(), {"slack": "#fus-als-watch"})
            session.commit()
        client = build_slack_client(TOKEN, slack.base_url, sleep=lambda _s: None)
        report = DeliveryLoop(SlackDestination(client, store.outbox), store.outbox, clock).flush()
        assert (report.sent, report.failed, report.errors) == (1, 0, [])
        [message] = slack.messages
        assert_within_limits(message["blocks"])
        assert len(message["text"]) <= 40_000
    finally:
        store.close()


def test_fit_blocks_caps_the_count_and_cuts_outside_links_and_escapes() -> None:
    many = [section(f"block {i}") for i in range(70)]
    fitted = fit_blocks(many, tail="… more at <https://x.org|the record>")
    assert len(fitted) == 50
    assert "21 more block(s) not shown" in fitted[-1]["elements"][0]["text"]
    link = "<https://clinicaltrials.gov/study/NCT04768972|FUSION>"
    text = "a" * 2990 + link
    assert cut_mrkdwn(text, 3000) == "a" * 2990 + "…"  # the link is dropped whole, not broken
    assert cut_mrkdwn("b" * 2996 + "&amp;x", 3000) == "b" * 2996 + "…"
    header = fit_blocks([{"type": "header", "text": {"type": "plain_text", "text": "h" * 400}}])
    assert len(header[0]["text"]["text"]) == 150
    assert many[0] == section("block 0")  # the input is left as it was


def test_ordinary_alerts_are_not_touched_by_the_guard() -> None:
    change = Change(
        kind=ChangeKind.UPDATED,
        topic="ulefnersen",
        source="clinicaltrials",
        key="NCT04768972",
        title="FUSION",
        url="https://clinicaltrials.gov/study/NCT04768972",
        severity=Severity.HIGH,
        field_changes=(describe_change("overall_status", "ACTIVE_NOT_RECRUITING", "COMPLETED"),),
    )
    blocks = slack_alert_blocks(Alert(id=1, created_at=T0, change=change))
    assert fit_blocks(blocks) == blocks
    assert block_errors(blocks) == []
