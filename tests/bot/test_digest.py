"""Digest assembly and rendering: the window of a day, grouping, Slack marks, health, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.config import DigestSettings
from bot.digest.assemble import assemble_digest, digest_day, digest_window
from bot.digest.render import digest_subject, render_html, render_text
from state.store import Store
from state.types import ChangeKind, DeliveryState, Severity
from tests.bot.digest_factories import MARKUP, STATUS, add_alert
from tests.factories import Clock, result, trial
from tests.state.helpers import routed

ZURICH = DigestSettings(timezone="Europe/Zurich", time=time(8, 0))
DAY = date(2026, 11, 22)
# 2026-11-22 08:00 in Zurich (UTC+1) is 07:00 UTC; the window opens 24 h earlier.
START, END = datetime(2026, 11, 21, 7, 0, tzinfo=UTC), datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def healthy_source(store: Store, at: datetime) -> None:
    routed(store, {"slack": "#x"}).apply_poll(result(trial()), started=at, at=at)


@pytest.mark.parametrize(
    ("now", "day"),
    [
        pytest.param(datetime(2026, 11, 22, 6, 59, tzinfo=UTC), date(2026, 11, 21), id="07:59"),
        pytest.param(datetime(2026, 11, 22, 7, 0, tzinfo=UTC), DAY, id="08:00-sharp"),
        pytest.param(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), DAY, id="23:30"),
        # Already the 23rd in Zurich, but the 23rd's digest is not due until 08:00.
        pytest.param(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), DAY, id="00:30-next-day"),
    ],
)
def test_the_day_is_the_one_whose_digest_time_last_passed_in_the_zone(
    now: datetime, day: date
) -> None:
    assert digest_day(now, ZURICH.time, ZURICH.timezone) == day


def test_the_day_is_a_calendar_day_in_the_digest_zone_not_in_utc() -> None:
    # 20:00 UTC on the 22nd is 09:00 on the 23rd in Auckland (UTC+13 in November).
    now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert digest_day(now, time(8, 0), "Pacific/Auckland") == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        pytest.param(DAY, 24, id="ordinary-day"),
        pytest.param(date(2026, 3, 29), 23, id="clocks-go-forward"),
        pytest.param(date(2026, 10, 25), 25, id="clocks-go-back"),
    ],
)
def test_windows_tile_time_even_across_daylight_saving(day: date, hours: int) -> None:
    start, end = digest_window(day, ZURICH.time, ZURICH.timezone)
    assert end - start == timedelta(hours=hours)
    assert digest_window(day + timedelta(days=1), ZURICH.time, ZURICH.timezone)[0] == end


def test_the_window_includes_its_start_and_excludes_its_end(store: Store) -> None:
    add_alert(store, START - timedelta(seconds=1), title="yesterday's")
    add_alert(store, START, title="first of the day")
    add_alert(store, END - timedelta(seconds=1), title="last of the day")
    add_alert(store, END, title="tomorrow's")
    digest = assemble_digest(store, DAY, ZURICH)
    assert [i.alert.change.title for i in digest.items] == ["first of the day", "last of the day"]


def test_items_are_grouped_by_topic_in_config_order_then_by_source(store: Store) -> None:
    at = START + timedelta(hours=2)
    add_alert(store, at, topic="tofersen", title="SOD1 trial")
    add_alert(store, at, source="feed:FDA press releases", title="FDA item", url="")
    add_alert(store, at, title="normal trial change")
    add_alert(store, at + timedelta(hours=1), title="high trial change", severity=Severity.HIGH)

    digest = assemble_digest(store, DAY, ZURICH, ["ulefnersen", "tofersen"])

    layout = [
        (t.topic, s.label, [i.alert.change.title for i in s.items])
        for t in digest.topics
        for s in t.sources
    ]
    assert layout == [
        ("ulefnersen", "ClinicalTrials.gov", ["high trial change", "normal trial change"]),
        ("ulefnersen", "FDA press releases", ["FDA item"]),
        ("tofersen", "ClinicalTrials.gov", ["SOD1 trial"]),
    ]
    assert (digest.events, digest.high) == (4, 1)
    assert digest_subject(digest) == "trialwatch digest 2026-11-22: 4 new events (1 high)"


def test_an_item_shows_everything_a_reader_needs(store: Store) -> None:
    clock = Clock(START)
    healthy_source(store, clock())
    add_alert(
        store,
        START + timedelta(hours=5, minutes=3),
        severity=Severity.HIGH,
        field_changes=(STATUS,),
        matched_alias="ION363",
        claim_label="confirmed by FDA Drugs@FDA NDA 215123",
        also_reported_by=("Reuters", "Endpoints News"),
    )
    add_alert(
        store, START + timedelta(hours=6), title="Not yet posted", slack=DeliveryState.PENDING
    )

    text = render_text(assemble_digest(store, DAY, ZURICH))

    assert "trialwatch digest for Sunday 22 November 2026" in text
    assert "2026-11-21 08:00 to 2026-11-22 08:00 (Europe/Zurich): 2 new events (1 high)" in text
    assert "== ulefnersen ==" in text and "-- ClinicalTrials.gov --" in text
    assert "[HIGH] changed: FUSION: ION363 in FUS-ALS" in text
    # Local time, the alias that matched, and the Slack mark.
    assert '2026-11-21 13:03 · matched "ION363" · already alerted in Slack' in text
    assert "• Status: Active, not recruiting → Completed" in text
    assert "Claim check: confirmed by FDA Drugs@FDA NDA 215123" in text
    assert "Also reported by: Reuters, Endpoints News" in text
    assert "https://clinicaltrials.gov/study/NCT04768972" in text
    assert "Not yet posted\n  2026-11-21 14:00 · not yet posted to Slack" in text
    assert "Answering: ClinicalTrials.gov (last success 2026-11-21 08:00)" in text


def test_source_health_names_failing_sources_and_their_last_error(store: Store) -> None:
    clock = Clock(START)
    healthy_source(store, clock())
    for _ in range(3):
        routed(store, {"slack": "#x"}).record_failure(
            "ulefnersen",
            "google_news",
            "HTTP 503 from news.google.com",
            started=clock(),
            at=clock.advance(minutes=30),
        )
    digest = assemble_digest(store, DAY, ZURICH)
    text, html = render_text(digest), render_html(digest)
    line = (
        "FAILING: Google News (ulefnersen): 3 failed poll(s) in a row since 2026-11-21 08:30; "
        "last error: HTTP 503 from news.google.com"
    )
    assert line in text
    assert "Google News (ulefnersen): 3 failed poll(s)" in html
    assert digest_subject(digest).endswith(", 1 source failing")


def test_feed_markup_is_escaped_in_html_and_readable_in_text(store: Store) -> None:
    add_alert(
        store,
        START + timedelta(hours=1),
        kind=ChangeKind.NEW,
        source="feed:FDA press releases",
        title=MARKUP,
        url="javascript:alert(2)",
        claim_label="unconfirmed: <i>no FDA/EMA record yet</i>",
    )
    digest = assemble_digest(store, DAY, ZURICH)
    html, text = render_html(digest), render_text(digest)

    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;FDA&lt;/b&gt;" in html
    assert "<script>" not in html and "<b>FDA" not in html and "<i>" not in html
    assert "javascript:" not in html  # only http(s) URLs become links
    assert f"new: {MARKUP}" in text
    assert "Claim check: unconfirmed: <i>no FDA/EMA record yet</i>" in text
    assert "&amp;" not in text and "&lt;" not in text


def test_a_quiet_day_says_so_and_that_every_source_was_checked(store: Store) -> None:
    healthy_source(store, START + timedelta(hours=1))
    digest = assemble_digest(store, DAY, ZURICH)
    assert digest.quiet
    assert digest_subject(digest) == "trialwatch digest 2026-11-22: no new events"
    assert "No new events; all sources checked." in render_text(digest)
    assert "No new events; all sources checked." in render_html(digest)


def test_a_quiet_day_with_a_failing_source_does_not_claim_all_were_checked(store: Store) -> None:
    routed(store, {}).record_failure("ulefnersen", "pubmed", "timeout", started=START, at=START)
    text = render_text(assemble_digest(store, DAY, ZURICH))
    assert "No new events; but 1 source failing (see Sources below)." in text
    assert "all sources checked" not in text


def test_an_item_says_where_the_topic_is_named_escaped_in_html(store: Store) -> None:
    from sqlmodel import Session, select

    from state.schema import AlertRow

    add_alert(store, START + timedelta(hours=2), source="feed:FDA", title="FDA Roundup")
    add_alert(store, START + timedelta(hours=3), source="feed:FDA", title="ION363 news")
    with Session(store.engine) as session:
        roundup, news = session.exec(select(AlertRow).order_by(AlertRow.id)).all()
        roundup.matched_in, roundup.excerpt = "text", f"…dosing of ION-363 {MARKUP}…"
        news.matched_in = "headline"
        session.add_all([roundup, news])
        session.commit()
    digest = assemble_digest(store, DAY, ZURICH)

    text = render_text(digest)
    assert f"  Named in the text: …dosing of ION-363 {MARKUP}…\n" in text
    assert "  Named in the headline\n" in text
    html = render_html(digest)
    assert "Named in the text: <q>…dosing of ION-363 &lt;script&gt;" in html
    assert "<script>" not in html
