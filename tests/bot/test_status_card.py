"""The /status Block Kit card: what a clinical team reads, escaped, within Slack's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.delivery.limits import HEADER_LIMIT, SECTION_LIMIT
from bot.slack.status_card import MAX_BLOCKS, MAX_TRIALS, status_blocks, status_fallback
from bot.status.terminal import status_text
from state.fields import describe_change
from state.types import (
    Alert,
    Change,
    ChangeKind,
    Severity,
    SourceHealth,
    StoredObservation,
    TopicStatus,
)
from tests.factories import T0, trial
from watchers.model import Observation, Topic

TOPIC = Topic(
    name="ulefnersen", aliases=("jacifusen", "ION363"), trials=("NCT04768972",), conditions=()
)
NOW = T0 + timedelta(days=3)


def stored(key: str = "NCT04768972", changed: dict[str, Any] | None = None, **kw: Any) -> Any:
    times = {name: T0 + timedelta(days=1) for name in changed or {}}
    return StoredObservation(
        observation=trial(key, **(changed or {}), **kw),
        first_seen=T0,
        last_seen=NOW,
        last_changed=max(times.values(), default=T0),
        field_changed_at=times,
    )


def alert(n: int = 1, **kw: Any) -> Alert:
    base: dict[str, Any] = {
        "kind": ChangeKind.UPDATED,
        "topic": "ulefnersen",
        "source": "clinicaltrials",
        "key": "NCT04768972",
        "title": "FUSION: ION363 in FUS-ALS",
        "url": "https://clinicaltrials.gov/study/NCT04768972",
        "severity": Severity.HIGH,
        "field_changes": (describe_change("overall_status", "ACTIVE_NOT_RECRUITING", "COMPLETED"),),
    }
    base.update(kw)
    return Alert(id=n, created_at=T0 + timedelta(days=2), change=Change(**base))


def health(source: str = "clinicaltrials", failures: int = 0, error: str | None = None) -> Any:
    return SourceHealth(
        source=source,
        topic="ulefnersen",
        last_attempt=NOW,
        last_success=T0 + timedelta(days=2),
        last_failure=NOW if failures else None,
        consecutive_failures=failures,
        last_error=error,
        down_since=NOW if failures else None,
    )


@dataclass
class Case:
    id: str
    status: TopicStatus
    shows: list[str] = field(default_factory=list)
    hides: list[str] = field(default_factory=list)
    topic: Topic = TOPIC


def status(**kw: Any) -> TopicStatus:
    return TopicStatus(
        topic="ulefnersen",
        trials=kw.get("trials", ()),
        recent_alerts=kw.get("alerts", ()),
        health=kw.get("health", ()),
        failed_deliveries=kw.get("failed", ()),
    )


HOSTILE = "<!channel> <https://evil.example|FDA approves> & <@U123>"

CASES = [
    Case(
        "nothing stored yet",
        status(),
        shows=["ulefnersen status", "None stored yet", "None yet.", "Not checked yet."],
    ),
    Case(
        "trial status and key dates with when each last changed",
        status(
            trials=(stored(changed={"overall_status": "COMPLETED"}),),
            health=(health(),),
        ),
        shows=[
            "<https://clinicaltrials.gov/study/NCT04768972|NCT04768972>",
            "Status: *Completed*  _changed 2026-11-02 08:00 UTC_",
            "Primary completion: *2026-09 (estimated)*  "
            "_unchanged since first seen 2026-11-01 08:00 UTC_",
            "Enrollment: *95 (estimated)*",
            "✅ ClinicalTrials.gov: ok, last success 2026-11-03 08:00 UTC",
        ],
        hides=["Why stopped", "Results first posted"],
    ),
    Case(
        "latest alerts with severity, claim label and other outlets",
        status(
            alerts=(
                alert(
                    1,
                    source="google_news",
                    kind=ChangeKind.NEW,
                    severity=Severity.NORMAL,
                    field_changes=(),
                    title="Ionis says ulefnersen filing accepted",
                    url="https://news.example/a",
                    claim_label="unconfirmed: no FDA record yet",
                    also_reported_by=("Reuters", "STAT"),
                ),
                alert(2),
            )
        ),
        shows=[
            "🟡 *normal* · new · Google News · 2026-11-03 08:00 UTC",
            "<https://news.example/a|Ionis says ulefnersen filing accepted>",
            "Claim check: _unconfirmed: no FDA record yet_",
            "Also reported by Reuters, STAT",
            "🔴 *high* · changed · ClinicalTrials.gov",
            "Status: Active, not recruiting → Completed",
        ],
    ),
    Case(
        "a failing source shows its failures and last error",
        status(health=(health("openfda", failures=3, error="api.fda.gov answered HTTP 500"),)),
        shows=[
            "⚠️ openFDA Drugs@FDA: FAILING",
            "3 failed poll(s) in a row, last error: api.fda.gov answered HTTP 500",
        ],
    ),
    Case(
        "failed deliveries are listed",
        status(
            failed=(
                Alert(
                    id=7,
                    created_at=T0,
                    change=alert().change,
                    destination="slack",
                    channel="#gone",
                    last_error="Slack said channel_not_found",
                ),
            )
        ),
        shows=["Failed deliveries", "alert 7 to #gone: Slack said channel_not_found"],
    ),
    Case(
        "stored text cannot mention anyone or forge a link",
        status(
            trials=(stored(brief_title=HOSTILE, why_stopped=HOSTILE),),
            alerts=(alert(title=HOSTILE, claim_label=HOSTILE, also_reported_by=(HOSTILE,)),),
            health=(health(failures=1, error=HOSTILE),),
        ),
        shows=["&lt;!channel&gt; &lt;https://evil.example|FDA approves&gt; &amp; &lt;@U123&gt;"],
        hides=["<!channel>", "<https://evil.example", "<@U123>"],
    ),
]


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_card_content(case: Case) -> None:
    blocks = status_blocks(case.topic, case.status, now=NOW)
    rendered = text_of(blocks)
    for wanted in case.shows:
        assert wanted in rendered
    for unwanted in case.hides:
        assert unwanted not in rendered
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "ulefnersen status"},
    }
    assert "From stored state at 2026-11-04 08:00 UTC" in rendered


def test_own_trial_is_listed_before_search_finds() -> None:
    card = text_of(status_blocks(TOPIC, status(trials=(stored("NCT01111111"), stored())), now=NOW))
    assert card.index("NCT04768972") < card.index("NCT01111111")


def test_many_trials_and_alerts_stay_within_block_kit_limits() -> None:
    long_topic = Topic(name="x" * 400, aliases=("y" * 5000,))
    huge = status(
        trials=tuple(stored(f"NCT{n:08d}", brief_title="t" * 4000) for n in range(200)),
        alerts=tuple(alert(n, title="a" * 5000, claim_label="c" * 5000) for n in range(80)),
        health=tuple(health(f"feed:{n}", failures=1, error="e" * 500) for n in range(40)),
    )
    blocks = status_blocks(long_topic, huge, now=NOW)
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= HEADER_LIMIT
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    rendered = text_of(blocks)
    assert f"…and {200 - MAX_TRIALS} more trial(s)" in rendered
    assert blocks[-1]["type"] == "context"  # the footer survives the cut


def test_fallback_text_summarises_the_card() -> None:
    text = status_fallback(
        TOPIC,
        status(
            trials=(stored(changed={"overall_status": "COMPLETED"}),),
            alerts=(alert(),),
            health=(health(), health("openfda", failures=2, error="down")),
        ),
    )
    assert text == ("ulefnersen status — NCT04768972: Completed; 1 alert(s); 1 source(s) failing")


def eu_record(number: str, nct: str | None) -> StoredObservation:
    """A CTIS record as stored, naming `nct` as its NCT id."""
    fields = {"overall_status": "Temporarily halted", "start_date": "2021-06-14", "_nct_id": nct}
    return StoredObservation(
        observation=Observation(
            source="ctis",
            key=number,
            topic="ulefnersen",
            title="FUSION in the EU",
            url=f"https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={number}",
            fields=fields,
        ),
        first_seen=T0,
        last_seen=NOW,
        last_changed=T0,
        field_changed_at={},
    )


def test_an_eu_record_naming_a_stored_nct_trial_reads_as_one_trial() -> None:
    linked = eu_record("2099-500000-00-00", "NCT04768972")
    alone = eu_record("2099-500001-00-00", "NCT09999999")  # its NCT trial is not stored
    status = TopicStatus(
        topic="ulefnersen",
        trials=(stored(), linked, alone),
        recent_alerts=(),
        failed_deliveries=(),
        health=(),
    )
    text = status_text(TOPIC, status)
    assert text.count("2099-500000-00-00") == 1
    assert "    EU CTIS 2099-500000-00-00: Temporarily halted" in text
    assert "  2099-500001-00-00  FUSION in the EU" in text  # listed on its own
    assert "Enrollment" not in text.split("2099-500001-00-00", 1)[1]  # CTIS has none
    card = json.dumps(status_blocks(TOPIC, status, now=NOW))
    assert "EU CTIS 2099-500000-00-00" in card
    assert card.count("*<https://euclinicaltrials.eu") == 1  # one trial block of its own
