"""The dashboard in a real headless Chromium (Debian's `chromium` + `chromium-driver`, driven
by Selenium): no console errors, one chart point per registry version, a hostile feed title
shown as text, and a screenshot written under the test's temp dir for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.dashboard.page import topic_page
from bot.dashboard.serve import Dashboard
from bot.service.server import HttpServer, create_asgi_app
from state.store import Store
from state.types import TopicStatus
from tests.bot.test_dashboard import HOSTILE, TOPIC, seed
from tests.bot.test_links import HOSTILE as HOSTILE_URLS
from tests.bot.test_links import WEB, alert
from tests.factories import T0, Clock
from watchers.model import Topic

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,2000",
)

if not (Path(CHROMIUM).exists() and shutil.which(DRIVER)):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium and chromium-driver (scripts/test)")
    pytest.skip("Debian's chromium + chromium-driver are not installed", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")


@pytest.fixture
def served(sqlite_url: str) -> Iterator[str]:
    store = Store.open(sqlite_url)
    seed(store)
    dashboard = Dashboard(store, [TOPIC], Clock(), host="127.0.0.1", token=None)
    asgi = create_asgi_app(
        answer=lambda _: {}, health=lambda: {}, signing_secret=None, pages=dashboard.routes()
    )
    server = HttpServer(asgi, "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        store.close()


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_topic_page_in_chromium(served: str, browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{served}/topics/ulefnersen")  # type: ignore[attr-defined]
    assert "ulefnersen" in driver.title  # type: ignore[attr-defined]
    errors = [
        entry
        for entry in driver.get_log("browser")  # type: ignore[attr-defined]
        if entry["level"] == "SEVERE"
    ]
    assert errors == []
    points = driver.find_elements(By.CSS_SELECTOR, "svg.chart circle.point")  # type: ignore[attr-defined]
    live = driver.find_elements(By.CSS_SELECTOR, "svg.chart circle.live")  # type: ignore[attr-defined]
    assert (len(points) - len(live), len(live)) == (4, 1)  # one per version, then the live one
    alerts = driver.find_element(By.CSS_SELECTOR, "table.alerts").text  # type: ignore[attr-defined]
    assert HOSTILE in alerts  # the markup shows as text; it never ran
    shot = tmp_path / "dashboard-topic.png"
    driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000


def test_chromium_follows_only_web_links_in_a_saved_report(browser: object, tmp_path: Path) -> None:
    """The page opened from disk, as `report --html` is: every link Chromium parses is http(s)."""
    alerts = tuple(
        replace(alert(url), id=i) for i, url in enumerate([*HOSTILE_URLS, *(u for u, _ in WEB)])
    )
    status = TopicStatus(topic="tofersen", trials=(), recent_alerts=alerts, health=())
    report = tmp_path / "report.html"
    report.write_text(topic_page(Topic("tofersen"), status, now=T0), encoding="utf-8")
    driver = browser
    driver.get(report.as_uri())  # type: ignore[attr-defined]
    links = driver.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.links, a => [a.protocol, a.host, a.textContent])"
    )
    assert [protocol for protocol, _, _ in links] == ["https:"] * len(WEB)
    assert {host for _, host, _ in links} == {"www.ema.europa.eu", "www.federalregister.gov"}
