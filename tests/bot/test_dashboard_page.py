"""The programme page: alerts marked acknowledged / snoozed / muted (who, when), stacked rows
on a phone, failing sources first under a heading, "N more alerts", and a topic found by its
alias or a trial id (an unknown name: a 404 page listing the topics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.dashboard.page import topic_page
from bot.dashboard.serve import Dashboard, render_topic
from bot.service.server import HttpServer, create_asgi_app
from state.store import Store
from state.triage_types import TriageAction, TriageKind
from state.types import SourceHealth, TopicStatus
from tests.bot.test_dashboard import TOPIC, seed
from tests.bot.test_links import alert
from tests.factories import T0, Clock
from watchers.model import Topic

OTHER = Topic("tofersen", aliases=("BIIB067",), trials=("NCT02623699",))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def triage(store: Store, kind: TriageKind, who: str, minutes: int, **extra: object) -> None:
    [shown] = [a for a in store.status("ulefnersen", alerts=None).recent_alerts if a.change.key
               == "NCT04768972"]  # fmt: skip
    action = TriageAction(
        at=T0 + timedelta(days=1, hours=5, minutes=minutes), user_id="U0ANA12345",
        user_name=who, kind=kind, alert_id=shown.id, topic="ulefnersen",
        source="clinicaltrials", record_key="NCT04768972", **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    assert store.triage.record(action)


def test_alerts_are_marked_acknowledged_snoozed_and_muted_with_who_and_when(
    store: Store,
) -> None:
    seed(store)
    triage(store, TriageKind.ACKNOWLEDGE, "ana", 1)
    until = T0 + timedelta(days=9)
    triage(store, TriageKind.SNOOZE, "bea", 2, until=until)
    triage(store, TriageKind.MUTE, "<b>cy</b>", 3, field="enrollment")
    page = render_topic(store, TOPIC, T0 + timedelta(days=2))
    trial_row = page[page.index("FUSION: ION363 in FUS-ALS</a>") :]
    assert "acknowledged by @ana, 2026-11-02 13:01 UTC" in trial_row
    assert "record snoozed until 2026-11-10 08:00 UTC by @bea, 2026-11-02 13:02 UTC" in trial_row
    assert "Enrollment muted by @&lt;b&gt;cy&lt;/b&gt;, 2026-11-02 13:03 UTC" in trial_row
    news_row = page[page.index("<tr class='alert'>") : page.index("FUSION: ION363 in FUS-ALS</a>")]
    assert "class='mark" not in news_row  # another record: none of its marks
    # Before the acknowledgement was made, the page does not claim it.
    assert "acknowledged by" not in render_topic(store, TOPIC, T0 + timedelta(days=1))


def test_tables_are_stacked_rows_with_labels_on_a_narrow_screen() -> None:
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=(alert("https://x.org"),),
                         health=())  # fmt: skip
    page = topic_page(OTHER, status, now=T0)
    assert "<table class='alerts stack'>" in page
    for label in ("When", "Severity", "What", "Source", "Alert"):
        assert f"<td data-label='{label}'" in page
    narrow = page[page.index("@media (max-width:600px)") :]
    assert "table.stack tr,table.stack td" in narrow and "display:block" in narrow
    assert "content:attr(data-label)" in narrow


def health(source: str, failures: int, stale: str | None = None) -> SourceHealth:
    return SourceHealth(source, "tofersen", T0, T0, T0 if failures else None, failures,
                        "HTTP 503" if failures else None, None, stale)  # fmt: skip


def test_sources_have_a_heading_and_the_failing_ones_come_first() -> None:
    rows = (health("clinicaltrials", 0), health("ema", 3), health("google_news", 0, "stale"))
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=(), health=rows)
    page = topic_page(OTHER, status, now=T0)
    sources = page[page.index("<h2>Sources</h2>") :]
    failing, stale, ok = "ema: FAILING", "Google News: ok", "ClinicalTrials.gov: ok"
    assert sources.index(failing) < sources.index(stale) < sources.index(ok)
    assert "<details class='health ok'><summary>1 source ok</summary>" in sources
    healthy = (health("clinicaltrials", 0), health("ema", 0))
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=(), health=healthy)
    assert "<summary>All 2 sources ok</summary>" in topic_page(OTHER, status, now=T0)


def test_the_page_says_how_many_alerts_are_not_shown_and_how_to_see_them() -> None:
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=(alert("https://x.org"),),
                         health=(), alert_count=150)  # fmt: skip
    page = topic_page(OTHER, status, now=T0)
    assert "149 more alerts: <code>trialwatch status tofersen --all</code>" in page


@pytest.fixture
def served(store: Store) -> Iterator[httpx.Client]:
    seed(store)
    dashboard = Dashboard(store, [OTHER, TOPIC], Clock(), host="127.0.0.1", token=None)
    asgi = create_asgi_app(
        answer=lambda _: {}, health=lambda: {}, signing_secret=None, pages=dashboard.routes()
    )
    server = HttpServer(asgi, "127.0.0.1", 0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
            yield http
    finally:
        server.stop()


@pytest.mark.parametrize("name", ["ulefnersen", "ION363", "nct04768972", "NCT04768972"])
def test_an_alias_or_a_trial_id_opens_the_topic_page_as_status_finds_it(
    served: httpx.Client, name: str
) -> None:
    page = served.get(f"/topics/{name}")
    assert page.status_code == 200
    assert "<h1>ulefnersen</h1>" in page.text and "FUSION: ION363 in FUS-ALS" in page.text


def test_an_unknown_topic_is_a_404_page_listing_the_topics(served: httpx.Client) -> None:
    page = served.get("/topics/<b>nope")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "No topic “&lt;b&gt;nope”" in page.text
    assert "<a href='tofersen'>tofersen</a>" in page.text  # siblings of /topics/<name>
    assert "<a href='ulefnersen'>ulefnersen</a>" in page.text
    index = served.get("/").text
    assert "<a href='topics/ulefnersen'>ulefnersen</a>" in index  # the same link-building
