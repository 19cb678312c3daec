"""One link policy for every output: only http(s), as a browser reads the URL, becomes a link.

Each output (dashboard and `report --html`, digest HTML and text, Slack blocks and fallback,
Apprise, console) is rendered with hostile URLs from a source and must show no link for them,
and must link a valid URL however the source spelled it (case, stray tabs, spaces).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from markupsafe import escape

from bot.config import DigestSettings
from bot.dashboard.page import topic_page
from bot.destinations.notify.destination import AppriseDestination
from bot.destinations.render import alert_console_text, alert_fallback_text, slack_alert_blocks
from bot.digest.assemble import assemble_digest
from bot.digest.render import render_html, render_text
from bot.links import web_link
from state.store import Store
from state.types import Alert, Change, ChangeKind, Severity, TopicStatus
from tests.bot.digest_factories import add_alert
from tests.factories import T0
from watchers.model import Topic

HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    " javascript:alert(1)",
    "\x01\x1fjavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",  # protocol-relative: file://evil.example/x in a saved report
    "/topics/other",
    "https:evil.example",  # no host as written: not a link we vouch for
    "https://",
    "http://[::1",
]
# (as the source wrote it, the link a browser would follow)
WEB = [
    ("https://www.ema.europa.eu/en/medicines/human/EPAR/qalsody", None),
    ("HTTPS://www.federalregister.gov/d/2026-01234", None),
    (" \thttps://www.ema.europa.eu/x\n", "https://www.ema.europa.eu/x"),
    ("ht\ttps://www.ema.europa.eu/y", "https://www.ema.europa.eu/y"),
]
MARK = "Qalsody opinion"


@pytest.mark.parametrize("url", HOSTILE)
def test_only_http_and_https_links_with_a_host_pass(url: str) -> None:
    assert web_link(url) is None


@pytest.mark.parametrize(("url", "href"), WEB)
def test_a_web_link_is_read_as_a_browser_reads_it(url: str, href: str | None) -> None:
    assert web_link(url) == (href or url)


def alert(url: str, title: str = MARK) -> Alert:
    change = Change(ChangeKind.NEW, "tofersen", "ema", "qalsody", title, url, Severity.HIGH)
    return Alert(id=1, created_at=T0, change=change)


def dashboard(url: str) -> str:
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=(alert(url),), health=())
    return topic_page(Topic("tofersen"), status, now=T0)


def slack(url: str) -> str:
    shown = alert(url)
    return json.dumps(slack_alert_blocks(shown)) + alert_fallback_text(shown)


def posted_to_apprise(url: str, scheme: str = "json://127.0.0.1:9/hook") -> str:
    sent: list[dict[str, Any]] = []
    destination = AppriseDestination("hook", scheme, redact=str)
    destination._apprise = _Recorder(sent)  # type: ignore[assignment]
    destination.post(_Lease(alert(url)))  # type: ignore[arg-type]
    [post] = sent
    return str(post["title"]) + "\n" + str(post["body"])


class _Recorder:
    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent

    def notify(self, **kwargs: Any) -> bool:
        self.sent.append(kwargs)
        return True


class _Lease:
    def __init__(self, alert: Alert) -> None:
        self.alert = alert


@pytest.mark.parametrize("url", HOSTILE)
def test_the_dashboard_and_report_show_a_hostile_url_as_text(url: str) -> None:
    page = dashboard(url)
    assert MARK in page
    assert f">{MARK}</a>" not in page
    assert page.count("<a ") == 0  # the alert title is the only candidate link on this page


@pytest.mark.parametrize(("url", "href"), WEB)
def test_the_dashboard_links_a_web_url_as_the_browser_reads_it(url: str, href: str | None) -> None:
    assert f"<a href='{escape(href or url)}'>{MARK}</a>" in dashboard(url)


@pytest.mark.parametrize("url", HOSTILE)
def test_slack_console_and_apprise_carry_no_hostile_url(url: str) -> None:
    core = url.strip().replace("\t", "").replace("\n", "")[:10]
    for shown in (slack(url), alert_console_text(alert(url)), posted_to_apprise(url)):
        assert MARK in shown
        assert "script" not in shown.replace(MARK, "") and core not in shown


@pytest.mark.parametrize(("url", "href"), WEB)
def test_slack_console_and_apprise_link_a_web_url_as_the_browser_reads_it(
    url: str, href: str | None
) -> None:
    link = href or url
    assert f"<{link}|{MARK}>" in slack(url)
    assert f"\n  {link}\n" in alert_console_text(alert(url))
    assert posted_to_apprise(url).endswith("\n" + link)
    assert posted_to_apprise(url, "discord://4174216298/JHMHI8qBe7bk2Z").endswith("\n" + link)


ZURICH = DigestSettings(timezone="Europe/Zurich", time=time(8, 0))
DAY = date(2026, 11, 22)
START = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def digest(store: Store, url: str) -> tuple[str, str]:
    add_alert(store, START + timedelta(hours=1), title=MARK, url=url)
    built = assemble_digest(store, DAY, ZURICH)
    return render_html(built), render_text(built)


@pytest.mark.parametrize("url", ["java\tscript:alert(1)", " javascript:alert(1)", "//evil.x/"])
def test_the_digest_shows_a_hostile_url_as_text(store: Store, url: str) -> None:
    html, text = digest(store, url)
    assert f">{MARK}</a>" not in html and "href" not in html
    assert "script:" not in text and "evil.x" not in text


@pytest.mark.parametrize(("url", "href"), WEB[1:])
def test_the_digest_links_a_web_url_as_the_browser_reads_it(
    store: Store, url: str, href: str | None
) -> None:
    html, text = digest(store, url)
    assert f'<a href="{href or url}" style="color:#1a4f9c;">{MARK}</a>' in html
    assert f"\n  {href or url}\n" in text
