"""The dashboard in a real headless Chromium (Debian's `chromium` + `chromium-driver`, driven
by Selenium): at 360, 768 and 1280 px no page scrolls sideways and nothing errs in the console,
the chart's points sit left to right in date order, a hostile feed title shows as text, the
alert filters narrow the list through a shareable URL, and full-page screenshots at each width
are written for people to look at.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.dashboard.page import topic_page
from bot.dashboard.serve import Dashboard
from bot.service.server import HttpServer, create_asgi_app
from state.store import Store
from state.types import TopicStatus
from tests.bot.read.world import seed_world
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
def served_many(sqlite_url: str) -> Iterator[str]:
    """The seed and 40 more alerts (every 4th high), so the filters have something to narrow."""
    store = Store.open(sqlite_url)
    seed_world(store, extra=40)
    dashboard = Dashboard(
        store, [TOPIC], Clock(T0 + timedelta(days=4)), host="127.0.0.1", token=None
    )
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


WIDTHS = (360, 768, 1280)
# Each chart point's centre and the date its <title> says it was stated on.
POINTS_JS = """
return Array.from(document.querySelectorAll('svg.chart g.milestone g.dots'), g => {
  const box = g.querySelector('circle').getBoundingClientRect();
  return [g.closest('g.milestone').getAttribute('class'), box.x + box.width / 2,
          g.querySelector('title').textContent.match(/stated (\\d{4}-\\d{2}-\\d{2})/)[1]];
});
"""


def at_width(driver: Any, width: int) -> None:
    """The viewport `width` CSS px wide, as a phone's (headless windows stop at 500 px)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def severe(driver: Any) -> list[dict[str, object]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_topic_page_in_chromium(served: str, browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{served}/topics/ulefnersen")  # type: ignore[attr-defined]
    assert "ulefnersen" in driver.title  # type: ignore[attr-defined]
    assert severe(driver) == []
    titles = [
        e.get_attribute("textContent")
        for e in driver.find_elements(By.CSS_SELECTOR, "svg.chart g.dots > title")  # type: ignore[attr-defined]
    ]
    primary = [t for t in titles if t.startswith("Primary completion")]
    assert [t.endswith("(live record)") for t in primary] == [False] * 4 + [True]
    alerts = driver.find_element(By.CSS_SELECTOR, "table.alerts").text  # type: ignore[attr-defined]
    assert HOSTILE in alerts  # the markup shows as text; it never ran
    shot = tmp_path / "dashboard-topic.png"
    driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/topics/ulefnersen", "/", "/topics/nope"])
def test_pages_fit_every_width_and_chart_points_sit_at_their_dates(
    served: str, browser: Any, width: int, path: str
) -> None:
    at_width(browser, width)
    browser.get(served + path)
    assert browser.execute_script("return window.innerWidth") == width
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at {width} px"
    # An unknown topic's page answers 404 by design; nothing else may fail.
    own_404 = f"{served}{path} - Failed to load resource: the server responded with a status of 404"
    assert [e for e in severe(browser) if not str(e["message"]).startswith(own_404)] == []
    points = browser.execute_script(POINTS_JS)
    if path != "/topics/ulefnersen":
        return
    assert len(points) == 13  # start, primary completion (and the live move), completion
    for series in {s for s, _, _ in points}:
        line = [(stated, x) for s, x, stated in points if s == series]
        by_date = sorted(line)
        assert [x for _, x in line] == sorted(x for _, x in line)  # left to right in time
        assert [x for _, x in by_date] == [x for _, x in line]
    same_day = {}  # a version's points for every milestone share its x
    for _, x, stated in points:
        same_day.setdefault(stated, set()).add(round(x))
    assert all(len(xs) == 1 for xs in same_day.values())


def test_screenshots_at_each_width(served: str, browser: Any, tmp_path: Path) -> None:
    """Full-page PNGs at 360, 768 and 1280 px, for people to look at (also written to
    $TRIALWATCH_SCREENSHOTS when it is set)."""
    wanted = os.environ.get("TRIALWATCH_SCREENSHOTS")
    folders = [tmp_path, *([Path(wanted)] if wanted else [])]
    for width in WIDTHS:
        at_width(browser, width)
        browser.get(f"{served}/topics/ulefnersen")
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        png = base64.b64decode(shot["data"])
        assert png.startswith(b"\x89PNG") and len(png) > 20_000
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"dashboard-topic-{width}px.png").write_bytes(png)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        f"dashboard-topic-{w}px.png" for w in sorted(WIDTHS, key=str)
    ]


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


SEVERITIES_JS = """
return Array.from(document.querySelectorAll('table.alerts tr.alert td[data-label=Severity]'),
                  td => td.textContent);
"""


def test_filter_form_narrows_the_list_by_url_at_phone_width(served_many: str, browser: Any) -> None:
    """Choose severity "high" and submit, as a person would at 360 px: the URL carries the
    filter (a link to share), only high alerts are listed, and nothing scrolls sideways."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    at_width(browser, 360)
    browser.get(f"{served_many}/topics/ulefnersen")
    before = browser.execute_script(SEVERITIES_JS)
    assert "high" in before and set(before) - {"high"}  # the unfiltered list mixes severities
    form = browser.find_element(By.CSS_SELECTOR, "form.filters")
    assert form.is_displayed()
    Select(form.find_element(By.NAME, "severity")).select_by_value("high")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "severity=high" in d.current_url)
    assert browser.current_url.startswith(f"{served_many}/topics/ulefnersen?")
    after = browser.execute_script(SEVERITIES_JS)
    assert after and set(after) == {"high"} and len(after) == before.count("high")
    chosen = browser.find_element(By.CSS_SELECTOR, "select[name=severity] option[selected]")
    assert chosen.get_attribute("value") == "high"  # the form shows what it filtered
    assert browser.find_element(By.CSS_SELECTOR, "form.filters").is_displayed()
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"the filtered page scrolls sideways by {overflow} px at 360 px"
    assert severe(browser) == []
