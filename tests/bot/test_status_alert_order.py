"""Issue 21.3: `status` and `/status` put what matters first and say what they leave out.

A stored world of 10 alerts, 4 of them high (one acknowledged in Slack): the high alerts nobody
acknowledged come first (newest first), then the newest of the rest; the card counts what it
does not show and names the command that lists them; "sources ok" only when every line is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.slack.status_card import status_blocks, status_fallback
from bot.status.terminal import status_text
from state.schema import alert
from state.store import Store
from state.triage_types import TriageAction, TriageKind
from state.types import HistoryHealth, Severity, SourceHealth, TopicStatus
from tests.factories import T0
from watchers.model import Topic

TOPIC = Topic(name="ulefnersen", aliases=("ION363",))
NOW = T0 + timedelta(days=1)

# (source, severity, title), oldest first: alert ids 1..10.
WORLD = [
    ("clinicaltrials", Severity.NORMAL, "Enrollment updated"),
    ("openfda", Severity.HIGH, "FDA approves ulefnersen"),
    ("google_news", Severity.LOW, "Ionis at a conference"),
    ("ema_medicines", Severity.HIGH, "EMA CHMP positive opinion"),
    ("sec_edgar", Severity.HIGH, "Ionis 8-K: approval announced"),
    ("google_news", Severity.NORMAL, "Analysts on ulefnersen"),
    ("clinicaltrials", Severity.HIGH, "FUSION completed"),  # acknowledged
    ("google_news", Severity.LOW, "Patient group statement"),
    ("pubmed", Severity.LOW, "A paper on FUS-ALS"),
    ("medrxiv", Severity.LOW, "A preprint on FUS-ALS"),
]
ACKNOWLEDGED = 7


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The 10 alerts stored, the FUSION completion acknowledged by ana."""
    opened = Store.open(db_url)
    rows: list[dict[str, Any]] = [
        {
            "id": n,
            "created_at": T0 + timedelta(hours=n),
            "kind": "new",
            "topic": "ulefnersen",
            "source": source,
            "key": f"record-{n}",
            "title": title,
            "url": f"https://example.org/{n}",
            "severity": severity.value,
            "published": None,
            "field_changes_json": "[]",
            "also_reported_by_json": "[]",
        }
        for n, (source, severity, title) in enumerate(WORLD, start=1)
    ]
    with opened.engine.begin() as connection:
        connection.execute(alert.insert(), rows)
    acknowledge = TriageAction(
        at=T0 + timedelta(hours=12), user_id="U0ANA12345", user_name="ana",
        kind=TriageKind.ACKNOWLEDGE, alert_id=ACKNOWLEDGED, topic="ulefnersen",
        source="clinicaltrials", record_key=f"record-{ACKNOWLEDGED}",
    )  # fmt: skip
    assert opened.triage.record(acknowledge)
    yield opened
    opened.close()


def titles(status: TopicStatus) -> list[str]:
    return [a.change.title for a in status.recent_alerts]


def test_unacknowledged_high_alerts_come_first_then_the_newest(store: Store) -> None:
    status = store.status("ulefnersen", at=NOW)
    assert titles(status) == [
        "Ionis 8-K: approval announced",
        "EMA CHMP positive opinion",
        "FDA approves ulefnersen",
        "A preprint on FUS-ALS",
        "A paper on FUS-ALS",
    ]
    everything = store.status("ulefnersen", alerts=None, at=NOW)
    assert titles(everything)[3:5] == ["A preprint on FUS-ALS", "A paper on FUS-ALS"]
    assert titles(everything)[-1] == "Enrollment updated"
    assert len(everything.recent_alerts) == 10  # --all: none left out


def test_the_terminal_card_says_what_it_left_out_and_how_to_see_it(store: Store) -> None:
    card = status_text(TOPIC, store.status("ulefnersen", at=NOW), now=NOW)
    alerts = card.split("Alerts (", 1)[1]
    assert alerts.index("Ionis 8-K") < alerts.index("A preprint on FUS-ALS")
    assert "  … 5 more alerts: trialwatch status ulefnersen --all" in card
    everything = status_text(TOPIC, store.status("ulefnersen", alerts=None, at=NOW), now=NOW)
    assert "more alert" not in everything
    assert "Enrollment updated" in everything


def test_the_status_command_lists_every_alert_with_all(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "trialwatch.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n[[topics]]\nname = "ulefnersen"\n')
    runner = CliRunner()
    env = {"SLACK_BOT_TOKEN": "", "COLUMNS": "80"}
    first = runner.invoke(app, ["status", "ulefnersen", "--config", str(config)], env=env)
    assert first.exit_code == 0, first.stderr
    assert "5 more alerts: trialwatch status ulefnersen --all" in first.stdout
    assert "Enrollment updated" not in first.stdout
    every = runner.invoke(app, ["status", "ulefnersen", "--all", "--config", str(config)], env=env)
    assert every.exit_code == 0, every.stderr
    assert "Enrollment updated" in every.stdout and "more alert" not in every.stdout


def test_the_slack_card_shows_the_same_order_and_count(store: Store) -> None:
    status = store.status("ulefnersen", at=NOW)
    card = json.dumps(status_blocks(TOPIC, status, now=NOW), ensure_ascii=False)
    assert card.index("Ionis 8-K") < card.index("EMA CHMP") < card.index("A preprint")
    assert "Enrollment updated" not in card
    assert "…and 5 more alerts: `trialwatch status ulefnersen --all`" in card
    assert "10 alert(s)" in status_fallback(TOPIC, status)


def source(failures: int = 0, stale: str | None = None) -> SourceHealth:
    return SourceHealth(
        source="openfda", topic="ulefnersen", last_attempt=NOW, last_success=NOW,
        last_failure=NOW if failures else None, consecutive_failures=failures,
        last_error="HTTP 500" if failures else None, down_since=None, stale=stale,
    )  # fmt: skip


def history(failures: int = 0) -> HistoryHealth:
    return HistoryHealth(
        nct="NCT04768972", last_attempt=NOW, last_success=T0, consecutive_failures=failures,
        last_error="HTTP 500" if failures else None, caught_up_with=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("health", "histories", "ok"),
    [
        ((source(),), (history(),), True),
        ((source(failures=2),), (history(),), False),
        ((source(stale="no new label since 2025"),), (history(),), False),
        ((source(),), (history(failures=1),), False),  # a failing history line is not ok
    ],
    ids=["all ok", "failing source", "stale source", "failing history import"],
)
def test_sources_ok_only_when_every_source_and_history_line_is(
    health: tuple[SourceHealth, ...], histories: tuple[HistoryHealth, ...], ok: bool
) -> None:
    status = TopicStatus(
        topic="ulefnersen", trials=(), recent_alerts=(), health=health, history_health=histories
    )
    fallback = status_fallback(TOPIC, status)
    assert ("sources ok" in fallback) is ok
    assert ("1 source(s) failing" in fallback) is not ok
    card = json.dumps(status_blocks(TOPIC, status, now=NOW), ensure_ascii=False)
    assert ("⚠️" in card) is not ok
