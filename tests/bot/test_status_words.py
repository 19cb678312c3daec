"""Issue 21.6: `status` speaks as the alerts do, and its triage lines name alerts by title."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.destinations.render import alert_headline
from bot.status.terminal import status_text
from bot.status.triage_lines import TITLE_LIMIT
from state.store import Store
from state.triage_types import TriageAction, TriageKind
from state.types import Alert, Change, ChangeKind, Severity, TopicStatus
from tests.factories import T0, Clock, result, trial
from tests.state.helpers import pending_alerts, routed
from watchers.model import Topic

TOPIC = Topic(name="ulefnersen")
LONG_TITLE = (
    "FUSION: a Phase 3 study of ION363 in FUS-ALS " + "with a very long registry title " * 5
)


def alert(n: int, kind: ChangeKind, source: str) -> Alert:
    change = Change(
        kind=kind, topic="ulefnersen", source=source, key="NCT04768972", title=f"title {n}",
        url="https://clinicaltrials.gov/study/NCT04768972", severity=Severity.NORMAL,
    )  # fmt: skip
    return Alert(id=n, created_at=T0, change=change)


def test_alert_kinds_read_as_the_alerts_say_them() -> None:
    alerts = (
        alert(1, ChangeKind.UPDATED, "clinicaltrials"),
        alert(2, ChangeKind.SOURCE_DOWN, "openfda"),
    )
    status = TopicStatus(topic="ulefnersen", trials=(), recent_alerts=alerts, health=())
    card = status_text(TOPIC, status)
    assert "[normal] changed  ClinicalTrials.gov  title 1" in card
    assert "[normal] source down  openFDA Drugs@FDA  title 2" in card
    assert "updated" not in card and "source_down" not in card
    for shown in alerts:  # the very words of the alert as delivered
        assert f"] {alert_headline(shown.change).split(' · ')[-1]}  " in card


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


def test_triage_lines_name_an_acknowledged_alert_by_its_title_cut_to_fit(store: Store) -> None:
    clock = Clock()
    routed(store, {"console": None}).apply_poll(result(trial()), started=clock(), at=clock())
    moved = trial(brief_title=LONG_TITLE, overall_status="COMPLETED")
    at = clock.advance(hours=1)
    routed(store, {"console": None}).apply_poll(result(moved), started=at, at=at)
    [pending] = pending_alerts(store.outbox, "console")
    acknowledge = TriageAction(
        at=clock.advance(minutes=5), user_id="U0ANA12345", user_name="ana",
        kind=TriageKind.ACKNOWLEDGE, alert_id=pending.id or 0, topic="ulefnersen",
        source="clinicaltrials", record_key="NCT04768972",
    )  # fmt: skip
    assert store.triage.record(acknowledge)
    card = status_text(TOPIC, store.status("ulefnersen", at=clock() + timedelta(minutes=1)))
    [line] = [line for line in card.splitlines() if "latest:" in line]
    assert f"@ana acknowledged alert {pending.id} “FUSION: a Phase 3 study of ION363" in line
    title = line.split("“", 1)[1].rstrip("”")
    assert title.endswith("…") and len(title) == TITLE_LIMIT
