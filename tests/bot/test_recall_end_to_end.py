"""Recall through the real CLI: a regulator item naming the topic only in its body, or only by
its trial number, alerts once (respx-served feed, fake Slack).

The feed is the REAL FDA drug recalls feed (tests/fixtures/feeds) with *derived* items added in
its own shape: a generic "FDA Roundup" whose `content:encoded` names ION-363, and an item whose
description names only NCT04768972. Nothing in them is a fact about ulefnersen or the FDA.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.slack_api import FakeSlack, fake_slack

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
FDA_FEED = "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/drugs/rss.xml"
TOKEN = "xoxb-recall-test"

ROUNDUP = """<item><title>FDA Roundup: November 18, 2026</title>
<link>https://www.fda.gov/news-events/press-announcements/fda-roundup-november-18-2026</link>
<description>Today, the U.S. Food and Drug Administration is providing an at-a-glance summary
of news from around the agency:</description>
<content:encoded><![CDATA[<ul><li>Today, the FDA granted orphan drug designation to
<strong>ION-363</strong>, an antisense oligonucleotide studied in FUS-ALS.</li>
<li>The FDA issued a warning letter to a compounder.</li></ul>]]></content:encoded>
<pubDate>Wed, 18 Nov 2026 21:00:00 +0000</pubDate>
<guid isPermaLink="false">fda-roundup-2026-11-18</guid></item>"""
TRIAL_ONLY = """<item><title>Results information submitted for a neurology study</title>
<link>https://www.fda.gov/news-events/results-nct04768972</link>
<description>The sponsor of NCT04768972 submitted results information.</description>
<pubDate>Thu, 19 Nov 2026 15:00:00 +0000</pubDate>
<guid isPermaLink="false">fda-results-nct04768972</guid></item>"""


class Feed:
    """The FDA feed as served now: the real items, plus whatever was added."""

    def __init__(self) -> None:
        self.base = FIX.joinpath("fda_drug_recalls_rss_2019_prof18.xml").read_text("utf-8")
        self.added: list[str] = []

    def body(self) -> bytes:
        return self.base.replace("</channel>", "".join(self.added) + "</channel>").encode()


@pytest.fixture
def feed() -> Iterator[Feed]:
    served = Feed()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(FDA_FEED).mock(
            side_effect=lambda _r: respx.MockResponse(200, content=served.body())
        )
        yield served


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        yield fake


def write_config(tmp_path: Path, db_url: str, slack_url: str) -> str:
    path = tmp_path / "trialwatch.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[topics]]
name = "ulefnersen"
aliases = ["jacifusen", "ION363", "ION-363"]
trials = ["NCT04768972"]
eu_trials = ["2020-005522-28"]

[[sources.feeds]]
name = "FDA what's new in drugs"
url = "{FDA_FEED}"
authority = "FDA"

[slack]
api_url = "{slack_url}"
channel = "#trial-alerts"

[http]
min_interval = 0.001
max_retries = 0
"""
    )
    return str(path)


def check(config: str) -> None:
    result = CliRunner().invoke(app, ["check", "--config", config], env={"SLACK_BOT_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output, result.output


def text_of(post: dict[str, Any]) -> str:
    return json.dumps(post["blocks"], ensure_ascii=False)


def test_body_only_and_trial_number_items_alert_once(
    tmp_path: Path, db_url: str, feed: Feed, slack: FakeSlack
) -> None:
    config = write_config(tmp_path, db_url, slack.base_url)
    check(config)  # baseline: no item of the real feed names the topic
    assert slack.posts == []

    feed.added.append(ROUNDUP)
    check(config)
    [roundup] = slack.posts
    header = roundup["blocks"][0]["text"]["text"]
    assert header == "🟡 ulefnersen · FDA what's new in drugs · new"  # NORMAL: no claim
    assert "FDA Roundup: November 18, 2026" in text_of(roundup)
    assert (
        "Named in the text: Today, the FDA granted orphan drug designation to ION-363, an "
        "antisense oligonucleotide studied in FUS-ALS. The FDA issued a warning…"
    ) in text_of(roundup)
    assert "matched “ION363”" in text_of(roundup)
    check(config)
    assert len(slack.posts) == 1  # said once

    feed.added.append(TRIAL_ONLY)
    check(config)
    assert len(slack.posts) == 2
    trial = slack.posts[1]
    assert "Results information submitted for a neurology study" in text_of(trial)
    assert "matched “NCT04768972”" in text_of(trial)
    assert "Named in the text: The sponsor of NCT04768972 submitted results information." in (
        text_of(trial)
    )
    check(config)
    assert len(slack.posts) == 2
