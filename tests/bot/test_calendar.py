"""The programme calendar end to end: stored registry dates with their history, results due,
guidance; the iCalendar feed parsed back by a second library (`ics`), a slip moving the event."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from pathlib import Path

import httpx
import ics
import pytest
from starlette.applications import Starlette

from bot.app import open_app
from bot.calendar.feeds import CalendarFeeds
from bot.calendar.ics import calendar_feed
from bot.calendar.model import entries, passed_guidance
from bot.calendar.read import guidance_of, topic_calendar
from bot.calendar.table import calendar_table
from bot.config import load_settings
from bot.config.milestones import Milestone
from bot.service.server import HttpServer
from bot.service.url_token import UrlTokenGate
from state.timeline import Confidence, confidence_of
from tests.bot.history_world import FUSION
from tests.bot.test_end_to_end import CTGOV, Registry
from tests.factories import Clock
from tests.state.helpers import routed

TOPLINE = (
    '[[topics.milestones]]\nname = "FUSION topline"\nwindow = "2026-H2"\n'
    'source = "https://ionis.test/news/fusion"\nnote = "said on the Q2 call"\n'
)


def _config(tmp_path: Path, db_url: str) -> Path:
    config = tmp_path / "trialwatch.toml"
    config.write_text(
        f'[storage]\nurl = "{db_url}"\n'
        f'[[topics]]\nname = "ulefnersen"\naliases = ["ION363"]\ntrials = ["{FUSION}"]\n'
        f"{TOPLINE}"
        f'[sources.clinicaltrials]\nbase_url = "{CTGOV}"\n'
        "[http]\nmin_interval = 0.001\nmax_retries = 0\nbackoff = 0.001\n"
    )
    return config


def _events(body: bytes) -> dict[str, ics.Event]:
    """The feed as a second, independent library reads it: events by UID."""
    return {event.uid: event for event in ics.Calendar(body.decode()).events}


def _sequence(event: ics.Event) -> int:
    return int(next(line.value for line in event.extra if line.name == "SEQUENCE"))


def test_a_slip_moves_the_event_under_the_same_uid_with_a_higher_sequence(
    tmp_path: Path, db_url: str, registry: Registry
) -> None:
    config = _config(tmp_path, db_url)
    clock = Clock(datetime(2026, 8, 1, 9, tzinfo=UTC))

    def feed() -> tuple[bytes, str]:
        with open_app(load_settings(str(config), env={}), clock=clock, write=lambda _: None) as a:
            a.check()  # polls, then imports the registry history
            settings = a.config.settings
            found = topic_calendar(
                a.store.engine, "ulefnersen", guidance_of(settings, "ulefnersen"), clock().date()
            )
            return calendar_feed("ulefnersen", found, clock()), calendar_table(
                found, clock().date()
            )

    before, table = feed()
    # The registry's history: 2023-06 -> 2025-06 -> 2026-09, every value with when it moved.
    assert "2026-09     estimated (month)  ClinicalTrials.gov" in table
    assert "moved twice: 2023-06 (estimated) -> 2025-06 (estimated) (seen 2023-02-01)" in table
    assert "2026-H2     window             guidance" in table
    events = _events(before)
    [primary] = [e for e in events.values() if "Primary completion" in (e.name or "")]
    assert (primary.begin.date(), primary.all_day, _sequence(primary)) == (
        date(2026, 9, 1),
        True,
        2,
    )
    guidance = next(e for e in events.values() if e.name == "FUSION topline (guidance 2026-H2)")
    assert guidance.begin.date() == date(2026, 7, 1) and guidance.url == (
        "https://ionis.test/news/fusion"
    )

    # The sponsor pushes the primary completion out: the same event moves.
    registry.study["protocolSection"]["statusModule"]["primaryCompletionDateStruct"] = {
        "date": "2027-03",
        "type": "ESTIMATED",
    }
    clock.advance(days=1)
    after = _events(feed()[0])
    moved = after[primary.uid]
    assert len(after) == len(events)
    assert moved.begin.date() == date(2027, 3, 1)
    assert _sequence(moved) == 3
    assert "2027-03" in (moved.name or "") and moved.last_modified is not None
    assert moved.last_modified.date() == date(2026, 8, 2)


def test_confidence_reads_actual_day_month_and_year_end_placeholders() -> None:
    assert confidence_of("2025-08-28 (actual)") is Confidence.ACTUAL
    assert confidence_of("2027-03-15 (estimated)") is Confidence.DAY
    assert confidence_of("2027-03 (estimated)") is Confidence.MONTH
    assert confidence_of("2027-12-31 (estimated)") is Confidence.PLACEHOLDER
    assert confidence_of("2028-01-01 (estimated)") is Confidence.PLACEHOLDER


def test_a_passed_guidance_milestone_without_a_record_is_listed_once() -> None:
    topline = Milestone.model_validate(
        {"name": "FUSION topline", "window": "2026-H2", "source": "https://ionis.test/pr"}
    )
    found = entries("ulefnersen", [], [topline])

    def day(d: int, m: int, y: int = 2027) -> datetime:
        return datetime(y, m, d, 8, tzinfo=UTC)

    windows = [
        (day(30, 12, 2026), day(31, 12, 2026)),
        (day(31, 12, 2026), day(1, 1)),
        (day(1, 1), day(2, 1)),
    ]
    listed = [[e.title for e in passed_guidance(found, *w)] for w in windows]
    assert listed == [[], ["FUSION topline (guidance 2026-H2)"], []]


def test_a_milestone_needs_a_date_or_a_window_like_2027_h1() -> None:
    with pytest.raises(ValueError, match="2027-H1"):
        Milestone.model_validate({"name": "x", "window": "2027-H3", "source": "https://a.test/"})
    with pytest.raises(ValueError, match="either"):
        Milestone.model_validate({"name": "x", "source": "https://a.test/"})


def test_the_feed_needs_the_token_off_loopback_and_never_logs_it(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(str(_config(tmp_path, db_url)), env={}).settings
    secret = "feed-token-7f3a9c"
    with open_app(load_settings(str(_config(tmp_path, db_url)), env={})) as a:
        feeds = CalendarFeeds(
            a.store,
            a.topics,
            settings,
            lambda: datetime(2026, 8, 1, tzinfo=UTC),
            UrlTokenGate(host="0.0.0.0", token=secret),
        )
        server = HttpServer(Starlette(routes=feeds.routes()), "127.0.0.1", 0)
        server.start()
        try:
            with caplog.at_level(logging.DEBUG), httpx.Client(base_url=server.url) as client:
                refused = client.get("/calendar/ulefnersen.ics?token=wrong")
                denied_all = client.get("/calendar.ics")
                answered = client.get(f"/calendar/ulefnersen.ics?token={secret}")
                everything = client.get(f"/calendar.ics?token={secret}")
                unknown = client.get(f"/calendar/nobody.ics?token={secret}")
        finally:
            server.stop()
    assert (refused.status_code, denied_all.status_code) == (403, 403)
    assert answered.status_code == 200 and answered.headers["content-type"].startswith(
        "text/calendar"
    )
    assert "FUSION topline (guidance 2026-H2)" in {
        e.name for e in _events(answered.content).values()
    }
    assert everything.status_code == 200 and unknown.status_code == 404
    # What the service logged (the test's own HTTP client logs the URLs it asked for).
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any("refused status=403" in r.getMessage() for r in served)
    assert not [r for r in served if secret in r.getMessage() or "wrong" in r.getMessage()]


def test_the_digest_lists_a_passed_guidance_milestone_once_and_whats_coming_up(
    db_url: str,
) -> None:
    from bot.config import DigestSettings
    from bot.digest.assemble import assemble_digest
    from bot.digest.render import render_text
    from state.store import Store
    from tests.factories import result, trial

    topline = Milestone.model_validate(
        {"name": "FUSION topline", "window": "2026-H2", "source": "https://ionis.test/pr"}
    )
    utc = DigestSettings(timezone="UTC", time=time(8, 0))
    store = Store.open(db_url)
    try:
        at = datetime(2026, 11, 1, tzinfo=UTC)
        routed(store, {"slack": "#x"}).apply_poll(
            result(trial(primary_completion_date="2027-02 (estimated)")),
            started=at,
            at=at,
        )
        texts = [
            render_text(
                assemble_digest(store, day, utc, ["ulefnersen"], {"ulefnersen": (topline,)})
            )
            for day in (date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2))
        ]
    finally:
        store.close()
    passed = "FUSION topline (guidance 2026-H2) has passed: no record of it yet"
    assert [t.count(passed) for t in texts] == [0, 1, 0]
    assert "Coming up: FUSION: ION363 in FUS-ALS (NCT04768972): Primary completion" in texts[1]
