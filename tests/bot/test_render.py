"""Slack and console rendering: what people read, escaped, within Block Kit limits."""

from __future__ import annotations

import json

import pytest

from bot.destinations.render import (
    alert_console_text,
    alert_fallback_text,
    mrkdwn_link,
    slack_alert_blocks,
)
from bot.slack.delivery.limits import HEADER_LIMIT, SECTION_LIMIT
from state.fields import describe_change
from state.types import Alert, Change, ChangeKind, Severity
from tests.factories import T0


def make_alert(**kw: object) -> Alert:
    base: dict[str, object] = {
        "kind": ChangeKind.UPDATED,
        "topic": "ulefnersen",
        "source": "clinicaltrials",
        "key": "NCT04768972",
        "title": "FUSION: ION363 in FUS-ALS",
        "url": "https://clinicaltrials.gov/study/NCT04768972",
        "severity": Severity.HIGH,
        "matched_alias": "ION363",
        "field_changes": (describe_change("overall_status", "ACTIVE_NOT_RECRUITING", "COMPLETED"),),
    }
    base.update(kw)
    return Alert(id=1, created_at=T0, change=Change(**base))  # type: ignore[arg-type]


def all_text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_alert_shows_topic_source_change_link_and_alias() -> None:
    blocks = slack_alert_blocks(make_alert())
    text = all_text(blocks)
    assert blocks[0]["type"] == "header"
    assert "ulefnersen" in text and "ClinicalTrials.gov" in text
    assert "Status: Active, not recruiting → Completed" in text
    assert "<https://clinicaltrials.gov/study/NCT04768972|FUSION: ION363 in FUS-ALS>" in text
    assert "matched “ION363”" in text
    assert "severity high" in text


@pytest.mark.parametrize(
    "hostile",
    ["<!channel> approved!", "<@U123ABC> look", "<https://evil.example|FDA approves>", "a & b"],
)
def test_source_text_cannot_mention_or_forge_links(hostile: str) -> None:
    alert = make_alert(
        title=hostile,
        field_changes=(describe_change("why_stopped", None, hostile),),
        matched_alias=hostile,
    )
    for text in (all_text(slack_alert_blocks(alert)), alert_fallback_text(alert)):
        assert "<!channel>" not in text
        assert "<@U123ABC>" not in text
        assert "<https://evil.example" not in text
        assert "&lt;" in text or "&amp;" in text


def test_link_label_cannot_break_out_of_the_link() -> None:
    assert mrkdwn_link("https://x.org/a|b", "t|<x>") == "<https://x.org/a%7Cb|t¦&lt;x&gt;>"
    assert mrkdwn_link("javascript:alert(1)", "click") == "click"


def test_long_content_is_cut_with_a_link_not_rejected() -> None:
    many = tuple(describe_change("why_stopped", None, "x" * 400 + str(i)) for i in range(20))
    blocks = slack_alert_blocks(make_alert(title="T" * 5000, field_changes=many, topic="t" * 300))
    assert len(blocks) <= 50
    header = blocks[0]["text"]["text"]  # type: ignore[index]
    assert len(header) <= HEADER_LIMIT
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT  # type: ignore[index]
    assert "more at <https://clinicaltrials.gov/study/NCT04768972|the record>" in all_text(blocks)


def test_console_text_is_readable() -> None:
    text = alert_console_text(make_alert())
    assert text.splitlines()[0].startswith("🔴 ulefnersen · ClinicalTrials.gov · changed")
    assert "  • Status: Active, not recruiting → Completed" in text
    assert "https://clinicaltrials.gov/study/NCT04768972" in text
    assert "matched “ION363”" in text


def test_claim_label_and_other_outlets_are_shown_escaped() -> None:
    alert = make_alert(
        kind=ChangeKind.NEW,
        source="google_news",
        severity=Severity.LOW,
        field_changes=(),
        claim_label="unconfirmed: no FDA/EMA record yet",
        also_reported_by=("Fierce Biotech", "<!here> Daily"),
    )
    text = all_text(slack_alert_blocks(alert))
    assert "Claim check: unconfirmed: no FDA/EMA record yet" in text
    assert "Also reported by Fierce Biotech, &lt;!here&gt; Daily" in text
    assert "Claim check: unconfirmed" in alert_console_text(alert)


WHERE_NAMED = {
    "headline": ({"matched_in": "headline"}, "Named in the headline"),
    "text with excerpt": (
        {"matched_in": "text", "excerpt": "…dosing of ION-363 began…"},
        "Named in the text: …dosing of ION-363 began…",
    ),
    "a trial source says nothing": ({}, None),
}


@pytest.mark.parametrize(("fields", "line"), WHERE_NAMED.values(), ids=WHERE_NAMED.keys())
def test_the_alert_says_where_the_topic_is_named(fields: dict[str, str], line: str | None) -> None:
    alert = make_alert(source="feed:FDA press releases", field_changes=(), **fields)
    texts = [all_text(slack_alert_blocks(alert)), alert_console_text(alert)]
    texts.append(alert_fallback_text(alert))
    for text in texts:
        if line is None:
            assert "Named in the" not in text
        else:
            assert line in text


def test_the_excerpt_is_escaped_like_every_source_string() -> None:
    alert = make_alert(matched_in="text", excerpt="<!channel> ION363 & <https://evil.example|x>")
    for text in (all_text(slack_alert_blocks(alert)), alert_fallback_text(alert)):
        assert "<!channel>" not in text and "<https://evil.example" not in text
        assert "Named in the text: &lt;!channel&gt; ION363 &amp; &lt;https://evil.example" in text
