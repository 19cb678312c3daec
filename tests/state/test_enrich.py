"""One alert per story and the claim check, through the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from state.poll.enrich import UNCONFIRMED
from state.store import Store
from state.types import ChangeKind, Severity
from tests.factories import Clock
from tests.state.helpers import pending_alerts, routed
from watchers.model import Observation, SourceResult, freeze_fields

SLACK = {"slack": "#fus-als-watch"}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def news(key: str, title: str, outlet: str, *, claim: str | None = None, **kw: Any) -> Observation:
    return Observation(
        source=kw.pop("source", "google_news"),
        key=key,
        topic=kw.pop("topic", "ulefnersen"),
        title=title,
        url=kw.pop("url", f"https://news.example/{key}"),
        fields=freeze_fields(
            {"_authority": kw.pop("authority", "news"), "_outlet": outlet, "_claim": claim}
        ),
        matched_alias="ulefnersen",
    )


def submission(status: str, date: str = "2027-03-01") -> Observation:
    return Observation(
        source="openfda",
        key="NDA299999:ORIG-1",
        topic="ulefnersen",
        title="ULEFNERSEN NDA299999 ORIG-1",
        url="https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo=299999",
        fields=freeze_fields({"submission_status": status, "submission_status_date": date}),
        matched_alias="ulefnersen",
    )


def poll(store: Store, clock: Clock, source: str, *items: Observation, topic: str = "ulefnersen"):  # type: ignore[no-untyped-def]
    result = SourceResult(source=source, topic=topic, observations=items)
    return routed(store, SLACK).apply_poll(result, started=clock(), at=clock())


def baseline(store: Store, clock: Clock, *sources: str, topic: str = "ulefnersen") -> None:
    for source in sources:
        poll(store, clock, source, topic=topic)


def test_same_story_from_three_outlets_is_one_alert(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news")
    report = poll(
        store,
        clock,
        "google_news",
        news("g1", "FDA approves Ionis' ulefnersen, first therapy for FUS-ALS", "Reuters"),
        news("g2", "FDA Approves Ulefnersen as First Treatment for FUS-ALS Patients", "STAT"),
    )
    assert len(report.changes) == 1
    clock.advance(hours=5)
    poll(
        store,
        clock,
        "google_news",
        news("g3", "Ulefnersen becomes first FDA-approved therapy for FUS-ALS", "Fierce Biotech"),
    )
    [alert] = pending_alerts(store.outbox, "slack")
    assert alert.change.title.startswith("FDA approves Ionis")
    assert alert.change.also_reported_by == ("STAT", "Fierce Biotech")
    assert alert.change.detail is not None and alert.change.detail.startswith("Reuters")


def test_same_story_after_the_window_is_a_new_alert(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news")
    poll(
        store,
        clock,
        "google_news",
        news("g1", "Ionis to present ulefnersen data at ALS meeting", "A"),
    )
    clock.advance(hours=49)
    poll(
        store,
        clock,
        "google_news",
        news("g2", "Ionis ulefnersen ALS meeting presentation set", "B"),
    )
    assert len(pending_alerts(store.outbox, "slack")) == 2


def test_same_url_through_two_topics_feeds_is_one_alert(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "feed:Endpoints", topic="ulefnersen")
    baseline(store, clock, "feed:Endpoints", topic="tofersen")
    url = "https://endpts.com/ionis-als-pipeline"
    for topic in ("ulefnersen", "tofersen"):
        item = news(
            "e1",
            "Ionis lays out its ALS pipeline",
            "Endpoints",
            source="feed:Endpoints",
            topic=topic,
            url=url,
        )
        poll(store, clock, "feed:Endpoints", item, topic=topic)
    alerts = pending_alerts(store.outbox, "slack")
    assert [a.change.topic for a in alerts] == ["ulefnersen"]


def test_retitled_item_does_not_alert_again(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news")
    poll(store, clock, "google_news", news("g1", "Ionis doses first patient", "Reuters"))
    poll(store, clock, "google_news", news("g1", "Ionis doses first patient (updated)", "Reuters"))
    assert len(pending_alerts(store.outbox, "slack")) == 1


def test_claim_unconfirmed_then_confirmed_once_in_the_thread(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news", "openfda")
    poll(
        store,
        clock,
        "google_news",
        news("g1", "FDA approves ulefnersen for FUS-ALS", "Some Blog", claim="approval"),
    )
    [claim] = pending_alerts(store.outbox, "slack")
    assert claim.change.claim_label == UNCONFIRMED

    clock.advance(days=3)
    report = poll(store, clock, "openfda", submission("AP"))
    kinds = [c.kind for c in report.changes]
    assert kinds == [ChangeKind.NEW, ChangeKind.CONFIRMED]
    follow_up = report.changes[1]
    assert follow_up.thread_of == claim.id
    assert follow_up.severity is Severity.HIGH
    assert "Drugs@FDA NDA299999:ORIG-1 (AP 2027-03-01)" in (follow_up.detail or "")

    # Said once: the record showing up again (or changing) adds no second follow-up.
    report = poll(store, clock, "openfda", submission("AP", "2027-03-02"))
    assert ChangeKind.CONFIRMED not in [c.kind for c in report.changes]
    parent = next(a for a in pending_alerts(store.outbox, "slack") if a.id == claim.id)
    assert (
        parent.change.claim_label == "confirmed later by Drugs@FDA NDA299999:ORIG-1 (AP 2027-03-01)"
    )


def test_claim_confirmed_at_once_when_the_record_is_in_state(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news")
    poll(store, clock, "openfda", submission("AP"))  # baseline of openfda already holds the AP
    poll(
        store,
        clock,
        "google_news",
        news("g1", "Ulefnersen approved by FDA", "Reuters", claim="approval"),
    )
    [alert] = pending_alerts(store.outbox, "slack")
    assert alert.change.claim_label == "confirmed by Drugs@FDA NDA299999:ORIG-1 (AP 2027-03-01)"


def test_tentative_approval_does_not_confirm(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news", "openfda")
    poll(
        store, clock, "google_news", news("g1", "FDA approves ulefnersen", "Blog", claim="approval")
    )
    report = poll(store, clock, "openfda", submission("TA"))
    assert [c.kind for c in report.changes] == [ChangeKind.NEW]


def test_approval_and_rejection_headlines_are_never_one_story(store: Store) -> None:
    clock = Clock()
    baseline(store, clock, "google_news")
    poll(
        store,
        clock,
        "google_news",
        news(
            "g1", "FDA approves Ionis ulefnersen for FUS-ALS patients today", "A", claim="approval"
        ),
        news(
            "g2", "FDA rejects Ionis ulefnersen for FUS-ALS patients today", "B", claim="rejection"
        ),
    )
    assert len(pending_alerts(store.outbox, "slack")) == 2


def test_a_retelling_among_hundreds_of_distinct_stories_still_folds_into_its_own(
    db_url: str,
) -> None:
    store = Store.open(db_url, max_per_poll=1000)  # hundreds of alerts: no storm guard here
    clock = Clock()
    baseline(store, clock, "google_news")
    distinct = [
        news(f"d{n}", f"ulefnersen update {n}: cohort{n} biomarker{n} dosing{n} sites{n}", "Wire")
        for n in range(300)
    ]
    told = news("g1", "FDA approves Ionis' ulefnersen, first therapy for FUS-ALS", "Reuters")
    retold = news("g2", "FDA Approves Ulefnersen as First Treatment for FUS-ALS Patients", "STAT")
    report = poll(store, clock, "google_news", told, *distinct, retold)
    assert len(report.changes) == 301  # every distinct story alerts; the retelling does not
    [first] = [c for c in report.changes if c.key == "g1"]
    assert first.also_reported_by == ("STAT",)
    store.close()
