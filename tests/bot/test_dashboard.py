"""The dashboard: pages escaped like the digest, one chart point per version, the bearer token
on non-loopback hosts, `trialwatch report --html`, and the render time at 10,000 alerts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.dashboard.serve import Dashboard, render_topic
from bot.service.bearer_gate import is_loopback
from bot.service.server import HttpServer, create_asgi_app
from state.store import Store
from tests.factories import T0, Clock, result, trial
from tests.state.helpers import routed
from tests.state.test_timeline import fusion_versions
from watchers.model import Observation, SourceResult, Topic, freeze_fields

TOPIC = Topic("ulefnersen", aliases=("ION363",), trials=("NCT04768972",))
HOSTILE = "<script>alert('x')</script> ION363 & friends"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def seed(store: Store) -> None:
    """FUSION with its 4 registry versions, then a live date move and a hostile news item."""
    clock = Clock()
    console = {"console": None}
    routed(store, console).apply_poll(result(trial()), started=clock(), at=clock())
    for version in fusion_versions():
        store.history.add(version, at=clock())
    clock.advance(days=1)
    moved = trial(primary_completion_date="2026-12 (estimated)")
    routed(store, console).apply_poll(result(moved), started=clock(), at=clock())
    news = Observation(
        source="google_news",
        key="https://news.example/1",
        topic="ulefnersen",
        title=HOSTILE,
        url="https://news.example/1",
        fields=freeze_fields({"_outlet": "Example"}),
        matched_alias="ION363",
    )
    for items in ((), (news,)):
        clock.advance(hours=1)
        routed(store, console).apply_poll(
            SourceResult("google_news", "ulefnersen", items),
            started=clock(),
            at=clock(),
        )


def test_topic_page_escapes_source_text_and_charts_every_version(store: Store) -> None:
    seed(store)
    page = render_topic(store, TOPIC, T0 + timedelta(days=2))
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ION363 &amp; friends" in page
    # The chart: a point per registry version, then the live change after them.
    assert len(re.findall(r"<title>Primary completion [^<]*\(registry v\d\)</title>", page)) == 4
    assert "<title>Primary completion 2026-12 (estimated): stated 2026-11-02 (live record)" in page
    # The timeline text counts the live change too, as the chart and the alert do.
    assert "Primary completion moved 3 times" in page
    assert (
        "(3rd move, 3 months later; 42 months later than first registered; "
        "now estimated to the month)" in page
    )
    assert "<script" not in page and " src=" not in page  # self-contained, nothing fetched


def test_report_writes_one_self_contained_html_file(tmp_path: Path, db_url: str) -> None:
    store = Store.open(db_url)
    seed(store)
    store.close()
    config = tmp_path / "trialwatch.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n[[topics]]\nname = "ulefnersen"\n')
    out = tmp_path / "fusion.html"
    result_ = CliRunner().invoke(
        app, ["report", "ulefnersen", "--html", str(out), "--config", str(config)]
    )
    assert result_.exit_code == 0, result_.output
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "NCT04768972" in text
    missing = CliRunner().invoke(
        app, ["report", "tofersen", "--html", str(out), "--config", str(config)]
    )
    assert missing.exit_code == 1


@contextmanager
def served(store: Store, host: str, token: str | None) -> Iterator[httpx.Client]:
    """The dashboard on a real server on 127.0.0.1, configured as if `host` were the bind."""
    dashboard = Dashboard(store, [TOPIC], Clock(), host=host, token=token)
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


def test_loopback_needs_no_token_and_other_hosts_need_the_bearer_token(store: Store) -> None:
    seed(store)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    with served(store, "127.0.0.1", None) as http:
        assert http.get("/topics/ulefnersen").status_code == 200
        assert http.get("/topics/nope").status_code == 404
    with served(store, "0.0.0.0", None) as http:
        refused = http.get("/")
        assert refused.status_code == 503 and "TRIALWATCH_DASHBOARD_TOKEN" in refused.text
    with served(store, "0.0.0.0", "s3cret-token") as http:
        assert http.get("/").status_code == 401
        wrong = http.get("/", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "s3cret" not in wrong.text
        ok = http.get("/topics/ulefnersen", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "NCT04768972" in ok.text
        assert http.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
